// Safetensors checkpoints (single file or sharded with an index), memory-mapped and validated
// before any tensor is read: header bounds, dtypes, sizes, overlaps, shards against the index.
#pragma once

#include <ATen/ATen.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace rast {

struct TensorEntry {
  std::string file;  // the shard it lives in (file name only)
  std::string dtype;  // safetensors dtype: F32, F16, BF16, ...
  std::vector<int64_t> shape;
  const uint8_t *data = nullptr;  // inside the mapped shard
  size_t nbytes = 0;
};

struct MappedFile;

class Checkpoint {
 public:
  explicit Checkpoint(const std::string &dir);  // throws rast::Error
  ~Checkpoint();
  Checkpoint(const Checkpoint &) = delete;
  Checkpoint &operator=(const Checkpoint &) = delete;

  bool has(const std::string &name) const { return tensors_.count(name) > 0; }
  const std::map<std::string, TensorEntry> &tensors() const { return tensors_; }

  // Reads `name`, checks its shape is `expect`, and returns rows [start, start+len) of dimension
  // `dim` (dim -1: the whole tensor) as a new tensor of `options` (device, dtype). Only the
  // slice is copied, so a tensor-parallel rank never holds the whole weight.
  at::Tensor load(const std::string &name, const std::vector<int64_t> &expect,
                  const at::TensorOptions &options, int64_t dim = -1, int64_t start = 0,
                  int64_t len = 0) const;

 private:
  std::string dir_;
  std::vector<std::unique_ptr<MappedFile>> files_;
  std::map<std::string, TensorEntry> tensors_;

  void map_shard(const std::string &file);
};

}  // namespace rast
