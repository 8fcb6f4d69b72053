// The Debian name of the machine's architecture (amd64, arm64, ...), used as
// the default for builds, runs and checks.
#pragma once

#include <string>

namespace distill::debian {

// From uname(2): x86_64 -> amd64, aarch64 -> arm64, armv7* -> armhf, ...
std::string host_architecture();

}  // namespace distill::debian
