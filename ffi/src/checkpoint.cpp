#include "checkpoint.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "error.h"
#include "json.h"

namespace rast {

struct MappedFile {
  std::string path;
  uint8_t *base = nullptr;
  size_t size = 0;
  ~MappedFile() {
    if (base && size) munmap(base, size);
  }
};

namespace {

bool file_exists(const std::string &path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

size_t dtype_size(const std::string &dtype) {
  static const std::map<std::string, size_t> sizes = {
      {"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"I64", 8}, {"I32", 4},
      {"I16", 2}, {"I8", 1},  {"U8", 1},  {"BOOL", 1}, {"U16", 2}, {"U32", 4}, {"U64", 8}};
  auto it = sizes.find(dtype);
  return it == sizes.end() ? 0 : it->second;
}

at::ScalarType scalar_type(const std::string &dtype) {
  if (dtype == "F32") return at::kFloat;
  if (dtype == "F16") return at::kHalf;
  if (dtype == "BF16") return at::kBFloat16;
  if (dtype == "F64") return at::kDouble;
  return at::kByte;  // not a weight dtype; load() refuses it
}

std::string shape_str(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); i++) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

}  // namespace

Checkpoint::Checkpoint(const std::string &dir) : dir_(dir) {
  std::string index_path = dir + "/model.safetensors.index.json";
  if (!file_exists(index_path)) {
    if (!file_exists(dir + "/model.safetensors")) {
      bool has_bin = file_exists(dir + "/pytorch_model.bin");
      fail(RAST_E_IO, "Cannot load \"" + dir + "\": no model.safetensors or " +
                          "model.safetensors.index.json" +
                          (has_bin ? " (only pytorch_model.bin; convert it to safetensors)"
                                   : "; pass a Hugging Face model folder"));
    }
    map_shard("model.safetensors");
    return;
  }

  std::ifstream f(index_path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  Json index;
  try {
    index = json_parse(ss.str());
  } catch (const std::exception &e) {
    fail(RAST_E_FORMAT, "\"" + index_path + "\" is not valid JSON (" + e.what() + ")");
  }
  const Json &map = index["weight_map"];
  if (map.kind != Json::Object || map.obj.empty())
    fail(RAST_E_FORMAT, "\"" + index_path + "\" has no weight_map");
  std::map<std::string, std::string> weight_map;
  std::set<std::string> shards;
  for (const auto &[name, file] : map.obj) {
    if (file.kind != Json::String || file.str.find('/') != std::string::npos)
      fail(RAST_E_FORMAT, "\"" + index_path + "\": weight_map entry \"" + name +
                              "\" is not a file name");
    weight_map[name] = file.str;
    shards.insert(file.str);
  }
  for (const auto &shard : shards)
    if (!file_exists(dir + "/" + shard))
      fail(RAST_E_IO, "Missing shard \"" + dir + "/" + shard + "\" named by " +
                          "model.safetensors.index.json; download the complete checkpoint");
  // A shard file in the folder that the index does not name means a mixed-up download.
  if (DIR *d = opendir(dir.c_str())) {
    while (dirent *e = readdir(d)) {
      std::string n = e->d_name;
      bool is_shard = n.size() > 12 && n.compare(n.size() - 12, 12, ".safetensors") == 0 &&
                      n.find("-of-") != std::string::npos;
      if (is_shard && !shards.count(n)) {
        closedir(d);
        fail(RAST_E_FORMAT, "Extra shard \"" + dir + "/" + n +
                                "\" is not named by model.safetensors.index.json; remove it or "
                                "re-download the checkpoint");
      }
    }
    closedir(d);
  }
  for (const auto &shard : shards) map_shard(shard);
  for (const auto &[name, file] : weight_map) {
    auto it = tensors_.find(name);
    if (it == tensors_.end() || it->second.file != file)
      fail(RAST_E_FORMAT, "Tensor \"" + name + "\" is listed in \"" + file +
                              "\" by the index but is not in that shard");
  }
  for (const auto &[name, entry] : tensors_)
    if (!weight_map.count(name))
      fail(RAST_E_FORMAT, "Shard \"" + entry.file + "\" holds tensor \"" + name +
                              "\" that the index does not list");
}

Checkpoint::~Checkpoint() = default;

void Checkpoint::map_shard(const std::string &file) {
  auto mf = std::make_unique<MappedFile>();
  mf->path = dir_ + "/" + file;
  const std::string &path = mf->path;
  int fd = open(path.c_str(), O_RDONLY);
  if (fd < 0) fail(RAST_E_IO, "Cannot open \"" + path + "\": " + strerror(errno));
  struct stat st;
  fstat(fd, &st);
  mf->size = static_cast<size_t>(st.st_size);
  if (mf->size < 8) {
    close(fd);
    fail(RAST_E_FORMAT, "\"" + path + "\" is truncated (" + std::to_string(mf->size) +
                            " bytes); re-download it");
  }
  void *p = mmap(nullptr, mf->size, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (p == MAP_FAILED) fail(RAST_E_IO, "Cannot map \"" + path + "\": " + strerror(errno));
  mf->base = static_cast<uint8_t *>(p);

  uint64_t header_len = 0;
  memcpy(&header_len, mf->base, 8);  // little-endian on every platform we build for
  if (header_len > mf->size - 8)
    fail(RAST_E_FORMAT, "\"" + path + "\" is truncated or corrupt: its header claims " +
                            std::to_string(header_len) + " bytes but the file has " +
                            std::to_string(mf->size) + "; re-download it");
  Json header;
  try {
    header = json_parse(std::string(reinterpret_cast<char *>(mf->base + 8), header_len));
  } catch (const std::exception &e) {
    fail(RAST_E_FORMAT, "\"" + path + "\" has a corrupt safetensors header (" + e.what() + ")");
  }
  if (header.kind != Json::Object)
    fail(RAST_E_FORMAT, "\"" + path + "\" has a safetensors header that is not an object");
  const uint8_t *data = mf->base + 8 + header_len;
  size_t data_size = mf->size - 8 - header_len;
  std::vector<std::pair<size_t, size_t>> spans;
  for (const auto &[name, info] : header.obj) {
    if (name == "__metadata__") continue;
    std::string where = "tensor \"" + name + "\" in \"" + path + "\"";
    const Json &offsets = info["data_offsets"];
    const Json &shape = info["shape"];
    if (info["dtype"].kind != Json::String || shape.kind != Json::Array ||
        offsets.kind != Json::Array || offsets.arr.size() != 2)
      fail(RAST_E_FORMAT, where + " has a malformed header entry");
    TensorEntry t;
    t.file = file;
    t.dtype = info["dtype"].str;
    size_t elem = dtype_size(t.dtype);
    if (!elem) fail(RAST_E_FORMAT, where + " has unknown dtype \"" + t.dtype + "\"");
    size_t count = 1;
    for (const auto &d : shape.arr) {
      if (d.kind != Json::Number || d.num < 0 || d.num != static_cast<int64_t>(d.num))
        fail(RAST_E_FORMAT, where + " has a bad shape");
      t.shape.push_back(static_cast<int64_t>(d.num));
      count *= static_cast<size_t>(d.num);
    }
    double begin = offsets.arr[0].num, end = offsets.arr[1].num;
    if (offsets.arr[0].kind != Json::Number || offsets.arr[1].kind != Json::Number ||
        begin < 0 || end < begin)
      fail(RAST_E_FORMAT, where + " has bad data_offsets");
    if (end > static_cast<double>(data_size))
      fail(RAST_E_FORMAT, where + " runs past the end of the file (offset " +
                              std::to_string(static_cast<uint64_t>(end)) + " > " +
                              std::to_string(data_size) +
                              " data bytes): the file is truncated; re-download it");
    t.nbytes = static_cast<size_t>(end - begin);
    if (t.nbytes != count * elem)
      fail(RAST_E_FORMAT, where + " has " + std::to_string(t.nbytes) + " bytes but its shape " +
                              shape_str(t.shape) + " and dtype need " +
                              std::to_string(count * elem));
    t.data = data + static_cast<size_t>(begin);
    spans.push_back({static_cast<size_t>(begin), static_cast<size_t>(end)});
    if (tensors_.count(name))
      fail(RAST_E_FORMAT, where + " also appears in \"" + tensors_[name].file + "\"");
    tensors_[name] = t;
  }
  std::sort(spans.begin(), spans.end());
  for (size_t i = 1; i < spans.size(); i++)
    if (spans[i].first < spans[i - 1].second)
      fail(RAST_E_FORMAT, "\"" + path + "\" has overlapping tensors; the file is corrupt");
  files_.push_back(std::move(mf));
}

at::Tensor Checkpoint::load(const std::string &name, const std::vector<int64_t> &expect,
                            const at::TensorOptions &options, int64_t dim, int64_t start,
                            int64_t len) const {
  auto it = tensors_.find(name);
  if (it == tensors_.end())
    fail(RAST_E_FORMAT, "Tensor \"" + name + "\" is missing from \"" + dir_ +
                            "\"; the checkpoint does not match its config.json");
  const TensorEntry &t = it->second;
  if (t.shape != expect)
    fail(RAST_E_FORMAT, "Tensor \"" + name + "\" in \"" + dir_ + "/" + t.file + "\" has shape " +
                            shape_str(t.shape) + " but config.json implies " + shape_str(expect));
  at::ScalarType st = scalar_type(t.dtype);
  if (st == at::kByte)
    fail(RAST_E_UNSUPPORTED, "Tensor \"" + name + "\" has dtype " + t.dtype +
                                 "; rast reads F32, F16, BF16 and F64 weights");
  // from_blob views the mapping without copying; the copying `.to()` moves only the slice.
  at::Tensor view = at::from_blob(const_cast<uint8_t *>(t.data), t.shape,
                                  at::TensorOptions().dtype(st).device(at::kCPU));
  if (dim >= 0) view = view.narrow(dim, start, len);
  return view.to(options, /*non_blocking=*/false, /*copy=*/true).contiguous();
}

}  // namespace rast
