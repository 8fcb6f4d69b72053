#include "util/result.hpp"

namespace distill {

const char* to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::NotFound:
      return "not found";
    case ErrorKind::Corrupt:
      return "corrupt";
    case ErrorKind::Io:
      return "i/o";
    case ErrorKind::Network:
      return "network";
    case ErrorKind::InvalidInput:
      return "invalid input";
    case ErrorKind::Unsupported:
      return "unsupported";
    case ErrorKind::Internal:
      return "internal";
  }
  return "unknown";
}

}  // namespace distill
