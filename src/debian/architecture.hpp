// The Debian name of the machine's architecture (amd64, arm64, ...), used as
// the default for builds, runs and checks.
#pragma once

#include <string>
#include <string_view>

#include "util/result.hpp"

namespace distill::debian {

// From uname(2): x86_64 -> amd64, aarch64 -> arm64, armv7* -> armhf, ...
std::string host_architecture();

// Whether `name` is a Debian release architecture (amd64, arm64, armhf, armel,
// i386, ppc64el, s390x, riscv64, mips64el, mipsel).
bool is_known_architecture(std::string_view name);
// Those names, comma-separated, for messages.
const char* known_architectures();

// InvalidInput "unknown architecture 'NAME' (Debian names: ...)" when `name`
// is not one of them: the one message of a spec's `archs:` and every --arch.
Status check_architecture(std::string_view name);

}  // namespace distill::debian
