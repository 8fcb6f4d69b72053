// Whether the program a container would start is there to start, looked up in
// its unpacked root before the runtime is called, the way the runtime and the
// kernel would look it up: a name without '/' in the process's PATH (Go's
// exec.LookPath in runc's init: a file that is not a directory and has an
// execute bit), a path from the working directory, symbolic links followed
// inside the root; then what the kernel needs to start it: a program's ELF
// interpreter (PT_INTERP), a script's #! interpreter.
//
// Why before: when the runtime cannot start a program it prints its reason
// itself, on the stderr the container shares, and distill can only repeat it;
// a dynamically linked program whose loader is not in the image is reported by
// the kernel as "no such file or directory" of the program. Found here, each is
// one line naming the image, the program and what is missing, with the exit
// status docker and podman give: 127 for a program or interpreter that is not
// there, 126 for one that cannot be executed.
//
// Only what the root shows is judged: a path through /proc, /dev or /sys (the
// runtime mounts them; `distill run` mounts nothing else, so a bind-mount
// option would have to pass its destinations here), a relative PATH entry, a
// link loop, or an interpreter that is itself a script are left to the runtime.
// The user's own permissions are not judged: runc's init starts the program
// with the process's capabilities still in effect (docker's defaults include
// CAP_DAC_OVERRIDE), so any execute bit lets any user start it; a 0700 root
// program runs as nonroot, as under docker.
#pragma once

#include <filesystem>
#include <string>

#include "runtime/bundle.hpp"
#include "util/result.hpp"

namespace distill::runtime {

// `image` names the image in the error ("oci:out/app:latest").
Status check_program(const std::filesystem::path& rootfs, const RunOptions& options,
                     const std::string& image);

}  // namespace distill::runtime
