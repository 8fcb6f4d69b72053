#include "debian/architecture.hpp"

#include <sys/utsname.h>

namespace distill::debian {

std::string host_architecture() {
  struct utsname name {};
  if (::uname(&name) != 0) {
    return "amd64";
  }
  std::string machine = name.machine;
  if (machine == "x86_64") {
    return "amd64";
  }
  if (machine == "aarch64" || machine == "arm64") {
    return "arm64";
  }
  if (machine.rfind("armv7", 0) == 0 || machine.rfind("armv8l", 0) == 0) {
    return "armhf";
  }
  if (machine == "i386" || machine == "i686") {
    return "i386";
  }
  if (machine == "ppc64le") {
    return "ppc64el";
  }
  return machine;  // s390x, riscv64, ...
}

namespace {
constexpr std::string_view k_known[] = {"amd64",   "arm64", "armhf",   "armel",    "i386",
                                        "ppc64el", "s390x", "riscv64", "mips64el", "mipsel"};
}  // namespace

bool is_known_architecture(std::string_view name) {
  for (auto known : k_known) {
    if (name == known) {
      return true;
    }
  }
  return false;
}

const char* known_architectures() {
  return "amd64, arm64, armhf, armel, i386, ppc64el, s390x, riscv64, mips64el, mipsel";
}

Status check_architecture(std::string_view name) {
  if (!is_known_architecture(name)) {
    return make_error(ErrorKind::InvalidInput, "unknown architecture '" + std::string(name) +
                                                   "' (Debian names: " + known_architectures() +
                                                   ")");
  }
  return {};
}

}  // namespace distill::debian
