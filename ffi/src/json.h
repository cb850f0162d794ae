// A small strict JSON reader for config.json, safetensors headers and options: enough of
// RFC 8259 to read what Hugging Face writes, with errors that say where the text broke.
#pragma once

#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace rast {

struct Json {
  enum Kind { Null, Bool, Number, String, Array, Object } kind = Null;
  bool b = false;
  double num = 0;
  std::string str;
  std::vector<Json> arr;
  std::map<std::string, Json> obj;

  bool has(const std::string &key) const { return kind == Object && obj.count(key) > 0; }
  // The member, or a Null value when absent (so optional keys read naturally).
  const Json &operator[](const std::string &key) const {
    static const Json null_value;
    if (kind != Object) return null_value;
    auto it = obj.find(key);
    return it == obj.end() ? null_value : it->second;
  }
  bool is_null() const { return kind == Null; }
};

Json json_parse(const std::string &text);  // throws std::runtime_error("... at offset N")

// Readers that throw std::runtime_error naming the key when the type is wrong.
double json_number(const Json &obj, const std::string &key);
double json_number_or(const Json &obj, const std::string &key, double fallback);
int64_t json_int(const Json &obj, const std::string &key);
int64_t json_int_or(const Json &obj, const std::string &key, int64_t fallback);
bool json_bool_or(const Json &obj, const std::string &key, bool fallback);
std::string json_string_or(const Json &obj, const std::string &key, const std::string &fallback);
std::string json_quote(const std::string &s);

}  // namespace rast
