#include "json.h"

#include <cmath>
#include <cstdlib>

namespace rast {
namespace {

struct Parser {
  const std::string &s;
  size_t i = 0;
  int depth = 0;

  [[noreturn]] void fail(const std::string &what) {
    throw std::runtime_error(what + " at offset " + std::to_string(i));
  }
  void ws() {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t')) i++;
  }
  bool lit(const char *word) {
    size_t n = std::char_traits<char>::length(word);
    if (s.compare(i, n, word) != 0) return false;
    i += n;
    return true;
  }
  static void put_utf8(std::string &out, uint32_t cp) {
    if (cp < 0x80) {
      out += char(cp);
    } else if (cp < 0x800) {
      out += char(0xC0 | (cp >> 6));
      out += char(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += char(0xE0 | (cp >> 12));
      out += char(0x80 | ((cp >> 6) & 0x3F));
      out += char(0x80 | (cp & 0x3F));
    } else {
      out += char(0xF0 | (cp >> 18));
      out += char(0x80 | ((cp >> 12) & 0x3F));
      out += char(0x80 | ((cp >> 6) & 0x3F));
      out += char(0x80 | (cp & 0x3F));
    }
  }
  uint32_t hex4() {
    if (i + 4 > s.size()) fail("truncated \\u escape");
    uint32_t v = 0;
    for (int k = 0; k < 4; k++) {
      char c = s[i++];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= uint32_t(c - '0');
      else if (c >= 'a' && c <= 'f') v |= uint32_t(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') v |= uint32_t(c - 'A' + 10);
      else fail("bad \\u escape");
    }
    return v;
  }
  std::string string() {
    std::string out;
    i++;  // opening quote
    while (true) {
      if (i >= s.size()) fail("unterminated string");
      char c = s[i++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) fail("control character in string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (i >= s.size()) fail("unterminated escape");
      char e = s[i++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          uint32_t cp = hex4();
          if (cp >= 0xD800 && cp < 0xDC00 && s.compare(i, 2, "\\u") == 0) {
            i += 2;
            uint32_t lo = hex4();
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
          put_utf8(out, cp);
          break;
        }
        default: fail("bad escape");
      }
    }
  }
  Json value() {
    if (++depth > 256) fail("nesting too deep");
    ws();
    if (i >= s.size()) fail("unexpected end of text");
    Json v;
    char c = s[i];
    if (c == '{') {
      v.kind = Json::Object;
      i++;
      ws();
      if (i < s.size() && s[i] == '}') {
        i++;
      } else {
        while (true) {
          ws();
          if (i >= s.size() || s[i] != '"') fail("expected a string key");
          std::string key = string();
          ws();
          if (i >= s.size() || s[i] != ':') fail("expected ':'");
          i++;
          v.obj[key] = value();
          ws();
          if (i < s.size() && s[i] == ',') { i++; continue; }
          if (i < s.size() && s[i] == '}') { i++; break; }
          fail("expected ',' or '}'");
        }
      }
    } else if (c == '[') {
      v.kind = Json::Array;
      i++;
      ws();
      if (i < s.size() && s[i] == ']') {
        i++;
      } else {
        while (true) {
          v.arr.push_back(value());
          ws();
          if (i < s.size() && s[i] == ',') { i++; continue; }
          if (i < s.size() && s[i] == ']') { i++; break; }
          fail("expected ',' or ']'");
        }
      }
    } else if (c == '"') {
      v.kind = Json::String;
      v.str = string();
    } else if (lit("true")) {
      v.kind = Json::Bool;
      v.b = true;
    } else if (lit("false")) {
      v.kind = Json::Bool;
    } else if (lit("null")) {
      v.kind = Json::Null;
    } else if (lit("NaN")) {  // Python's json writes these
      v.kind = Json::Number;
      v.num = NAN;
    } else if (lit("Infinity")) {
      v.kind = Json::Number;
      v.num = INFINITY;
    } else if (lit("-Infinity")) {
      v.kind = Json::Number;
      v.num = -INFINITY;
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      size_t start = i;
      if (s[i] == '-') i++;
      while (i < s.size() && (isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.' ||
                              s[i] == 'e' || s[i] == 'E' || s[i] == '+' || s[i] == '-'))
        i++;
      std::string num = s.substr(start, i - start);
      char *end = nullptr;
      v.kind = Json::Number;
      v.num = std::strtod(num.c_str(), &end);
      if (end != num.c_str() + num.size()) fail("bad number '" + num + "'");
    } else {
      fail(std::string("unexpected character '") + c + "'");
    }
    depth--;
    return v;
  }
};

const Json &need(const Json &obj, const std::string &key) {
  if (!obj.has(key)) throw std::runtime_error("missing key \"" + key + "\"");
  return obj[key];
}

}  // namespace

Json json_parse(const std::string &text) {
  Parser p{text};
  Json v = p.value();
  p.ws();
  if (p.i != text.size()) p.fail("trailing characters");
  return v;
}

double json_number(const Json &obj, const std::string &key) {
  const Json &v = need(obj, key);
  if (v.kind != Json::Number) throw std::runtime_error("key \"" + key + "\" is not a number");
  return v.num;
}

double json_number_or(const Json &obj, const std::string &key, double fallback) {
  return obj[key].is_null() ? fallback : json_number(obj, key);
}

int64_t json_int(const Json &obj, const std::string &key) {
  double v = json_number(obj, key);
  if (v != std::floor(v) || std::fabs(v) > 9.0e15)
    throw std::runtime_error("key \"" + key + "\" is not an integer");
  return static_cast<int64_t>(v);
}

int64_t json_int_or(const Json &obj, const std::string &key, int64_t fallback) {
  return obj[key].is_null() ? fallback : json_int(obj, key);
}

bool json_bool_or(const Json &obj, const std::string &key, bool fallback) {
  const Json &v = obj[key];
  if (v.is_null()) return fallback;
  if (v.kind != Json::Bool) throw std::runtime_error("key \"" + key + "\" is not true/false");
  return v.b;
}

std::string json_string_or(const Json &obj, const std::string &key, const std::string &fallback) {
  const Json &v = obj[key];
  if (v.is_null()) return fallback;
  if (v.kind != Json::String) throw std::runtime_error("key \"" + key + "\" is not a string");
  return v.str;
}

std::string json_quote(const std::string &s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"') out += "\\\"";
    else if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else if (c < 0x20) {
      char buf[8];
      snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else out += char(c);
  }
  return out + "\"";
}

}  // namespace rast
