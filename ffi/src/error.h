// The one exception type inside the shim; api.cpp turns it (and anything else thrown) into a
// return code and rast_last_error(), so nothing crosses the C boundary.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

#include "../include/rast.h"

namespace rast {

struct Error : std::runtime_error {
  int32_t code;
  Error(int32_t c, const std::string &msg) : std::runtime_error(msg), code(c) {}
};

[[noreturn]] inline void fail(int32_t code, const std::string &msg) { throw Error(code, msg); }

}  // namespace rast
