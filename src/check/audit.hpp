// `distill audit`: the distroless properties of CONTRACT.md ("audit") checked on the
// merged filesystem and config of one image manifest.
//
// Checks (Finding::check):
//  - shell: /bin/sh, /bin/bash, /bin/dash, /bin/ash and their /usr/bin twins exist,
//    or a busybox binary outside /busybox/.
//  - package-manager: dpkg, dpkg-deb, dpkg-query, apt, apt-get, apt-cache in a
//    bin/ or sbin/ directory.
//  - setuid: a non-directory with the setuid or setgid bit.
//  - world-writable: anything but a symlink writable by others, except sticky
//    directories (/tmp is 01777).
//  - user: the config's User (uid or name, optional :group) is not in /etc/passwd
//    (/etc/group); an empty User means root and needs root's entry.
//  - symlink: a relative symlink whose target climbs above the image root with ".."
//    (extracted by a naive tool it would reach the host's files). Absolute targets
//    are resolved inside the image root by every runtime, so they never escape,
//    even when dangling (tzdata's /usr/share/zoneinfo/localtime -> /etc/localtime).
//  - elf: an ELF executable or shared object whose program interpreter or
//    DT_NEEDED libraries are not in the image. Libraries are looked up the way
//    ld.so does (RPATH/RUNPATH with $ORIGIN, /etc/ld.so.conf, the default
//    directories); a library found nowhere on that path but present elsewhere in
//    the image under its soname (loaded by dlopen from an explicit path, e.g.
//    OpenJDK's libjvm.so) is accepted. Only programs (objects with a PT_INTERP) and
//    the libraries they load at start-up give findings; a shared object that no
//    program needs (a JNI library or plugin loaded by dlopen, like OpenJDK's
//    libjsound.so without libasound2) gives a warning.
// Debug variants (a /busybox/busybox, or /busybox in the config's PATH) get their
// busybox reported as `expected`, not as findings.
//
// The view is folded and the ELF objects found in one pass over the layers
// (ImageView::ScanFn): a second pass for the ELF contents was a third of
// auditing java17.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "check/image_view.hpp"
#include "oci/image_config.hpp"
#include "util/result.hpp"

namespace distill::check {

struct Finding {
  std::string check;  // shell, package-manager, setuid, world-writable, user, symlink, elf
  std::string path;   // the file at fault ("" for config checks)
  std::string message;
};

struct AuditReport {
  std::vector<Finding> findings;  // sorted by check, then path
  std::vector<Finding> expected;  // what a debug variant is allowed to have
  // Not failures: libraries missing for objects only ever loaded by dlopen.
  std::vector<Finding> warnings;
  [[nodiscard]] bool passed() const { return findings.empty(); }
};

// The image's platform manifest, its layers checked against its diff_ids.
Result<AuditReport> audit_image(const OpenedImage& image);
// Layer files (bottom first, not checked) with `config`; `origin` names them
// in errors.
Result<AuditReport> audit_layers(const std::vector<std::filesystem::path>& layer_files,
                                 const oci::ImageConfig& config,
                                 const std::string& origin = "image");

// "check path: message" (one line) for the CLI.
std::string format_finding(const Finding& finding);

}  // namespace distill::check
