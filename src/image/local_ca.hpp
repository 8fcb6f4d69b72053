// Private certificate authorities added the Debian way: a `.crt` file (PEM)
// under /usr/local/share/ca-certificates/ is what update-ca-certificates(8)
// appends to /etc/ssl/certs/ca-certificates.crt, after the certificates of the
// ca-certificates package, in sorted path order (its `find | sort`). No
// maintainer script runs in a distill image, so the stage whose spec adds such
// files regenerates the bundle itself, and the Java trust store from it when a
// JRE is installed (what ca-certificates-java's hook would do).
//
// Along a `from:` chain of specs the certificates are carried over: a later
// stage that installs packages (which would bring back the packages' bundle or
// trust store) regenerates both with them. An image reference used as `from:`
// carries none (its layers are not looked into).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "image/generated_files.hpp"
#include "image/package_layer.hpp"
#include "util/result.hpp"

namespace distill::image {

inline constexpr std::string_view k_local_ca_dir = "usr/local/share/ca-certificates";
inline constexpr std::string_view k_java_truststore = "etc/ssl/certs/java/cacerts";

// A certificate file the spec adds for update-ca-certificates.
struct LocalCertificate {
  std::string path;  // in the image, no leading '/'
  std::string pem;
};

// True for a path (with or without a leading '/') below k_local_ca_dir whose
// name ends in ".crt": the files update-ca-certificates reads.
bool is_local_ca_path(std::string_view path);

// The regular files among `entries` at a local CA path, contents read from
// their host source when they have one, sorted by path. Each must hold PEM
// CERTIFICATE blocks only, at least one, each an X.509 certificate; anything
// else is an InvalidInput error naming the file (its host source and image
// path).
Result<std::vector<LocalCertificate>> local_certificates(
    const std::vector<GeneratedEntry>& entries);

// The bundle update-ca-certificates writes: `package_bundle`, then each
// certificate file's bytes (a newline added when one is missing), in order.
std::string bundle_with_local_certificates(std::string package_bundle,
                                           const std::vector<LocalCertificate>& certificates);

// True when a Java runtime (openjdk-*-jre-headless) is among `packages`.
bool has_java_runtime(const std::vector<InstalledPackage>& packages);

// The certificates of a chain after one more stage: `base`'s, with `added`
// (the stage's own) added or, at the same path, replacing them. Sorted by path.
std::vector<LocalCertificate> merge_local_certificates(std::vector<LocalCertificate> base,
                                                       std::vector<LocalCertificate> added);

// Whether a stage must write the CA files again for the chain's `certificates`:
// it adds some itself (`adds_certificates`), or it installs ca-certificates
// (a new package bundle) or, in an image with a JRE, any package (the trust
// store is regenerated from the packages then).
bool must_regenerate_ca_files(const std::vector<LocalCertificate>& certificates,
                              bool adds_certificates, const std::vector<InstalledPackage>& added,
                              const std::vector<InstalledPackage>& all_packages);

// The CA files for `certificates`: k_ca_bundle, and k_java_truststore when a
// JRE is installed. Empty when there is no certificate or no ca-certificates
// package among `packages`. Appends what it made to `what` (layer history).
Result<std::vector<GeneratedEntry>> local_ca_files(
    const std::vector<InstalledPackage>& packages,
    const std::vector<LocalCertificate>& certificates, int64_t epoch,
    std::vector<std::string>& what);

}  // namespace distill::image
