// Software bills of materials for an image: SPDX 2.3 JSON
// (https://spdx.github.io/spdx-spec/v2.3/) and CycloneDX 1.5 JSON
// (https://cyclonedx.org/docs/1.5/json/).
//
// One package per dpkg status entry, identified by the purl
// pkg:deb/debian/NAME@VERSION?arch=ARCH&upstream=SOURCE&distro=<os-release ID>-<VERSION_ID>
// (https://github.com/package-url/purl-spec, type "deb"; the epoch's ':' written
// as is), with its version, the Maintainer as supplier, the license expression of
// its copyright file (debian_licenses.hpp: SPDX identifiers, LicenseRef-s defined in
// the document; NOASSERTION only without a copyright file), what it depends on among
// the installed packages (its Depends and Pre-Depends: the first installed
// alternative, else an installed package that Provides it) and the .deb's sha256
// when the caller knows it (a build does; an image alone does not). The application
// files of the layers a spec's `files:` created (history "distill: files ...") are
// listed with their SHA-1 and SHA-256. The upstream archives a spec's
// `archives:` unpacked (their records in /var/lib/distill/archives) are packages
// (CycloneDX: components) with their download URL and sha256, and the purl
// pkg:generic/NAME@VERSION?download_url=URL when the spec named them. The image itself is the
// described/root element that contains everything; CycloneDX also gets an operating-system
// component (os-release ID and VERSION_ID). Output is deterministic: the creation
// time is the image config's `created`, the document namespace and serial number
// derive from the name and the manifest digest, and every list is sorted.
#pragma once

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "check/image_view.hpp"
#include "oci/image_config.hpp"
#include "oci/image_ref.hpp"
#include "util/result.hpp"

namespace distill::check {

enum class SbomFormat { SpdxJson, CycloneDxJson };

// "spdx-json"/"spdx", "cyclonedx-json"/"cyclonedx"; else InvalidInput.
Result<SbomFormat> parse_sbom_format(std::string_view name);
// application/spdx+json, application/vnd.cyclonedx+json (OCI artifactType).
std::string sbom_media_type(SbomFormat format);

struct SbomOptions {
  std::string name;  // the image's name in the document (e.g. its reference)
  // .deb sha256 (hex) by "name:arch" or by "name"; from a build's package list.
  std::map<std::string, std::string> deb_sha256;
  std::string tool_version = "0.1.0";
};

// `manifest_digest` is "sha256:<hex>" of the image manifest the view was made from.
// The files make_sbom reads, by their name in a layer: an ImageView loaded
// with this keeps them (ImageView::KeepFn), and make_sbom then streams no
// layer again but those of a spec's `files:`.
bool sbom_reads(std::string_view tar_path);

// The SHA-256 and SHA-1 (hex) of each file of a spec's `files:` layers (those
// whose history says "distill: files ..."), taken as an ImageView is loaded
// (its ScanFn), so that make_sbom reads no layer a second time.
class SbomFileScan {
 public:
  struct Hashes {
    std::string sha256;
    std::string sha1;
  };
  explicit SbomFileScan(const oci::ImageConfig& config);
  SbomFileScan(const SbomFileScan&) = delete;
  SbomFileScan& operator=(const SbomFileScan&) = delete;

  // Of the image's `count` layers, those it must see (a ViewCache's always_read).
  [[nodiscard]] std::vector<bool> layers(size_t count) const;
  // For ImageView::load; it refers to this object, which must outlive the load.
  [[nodiscard]] ImageView::ScanFn scan();
  // What the scan found at (layer, position in that layer), if it saw it.
  [[nodiscard]] const Hashes* find(size_t layer, size_t position) const;

 private:
  std::set<size_t> m_layers;
  std::mutex m_mutex;
  std::map<std::pair<size_t, size_t>, Hashes> m_found;
};

// `scanned`, when given, is the file scan the view was loaded with: the files
// it saw are not read again.
Result<std::string> make_sbom(const ImageView& view, const oci::ImageConfig& config,
                              const std::string& manifest_digest, SbomFormat format,
                              const SbomOptions& options, const SbomFileScan* scanned = nullptr);

// pkg:deb/debian/NAME@VERSION?arch=ARCH[&upstream=SOURCE][&distro=DISTRO],
// percent-encoded but for the version's ':' and '+'.
std::string deb_purl(const std::string& name, const std::string& version, const std::string& arch,
                     const std::string& source, const std::string& distro);

// pkg:generic/NAME@VERSION?download_url=URL (percent-encoded), for an
// upstream archive of a spec's `archives:` with a name and a version.
std::string generic_purl(const std::string& name, const std::string& version,
                         const std::string& download_url);

// The name of an SBOM of the image at `ref`: the image's name and tag without any
// local path ("oci:/tmp/out/cc:latest" -> "cc:latest", "oci-archive:x/app.tar:v1"
// -> "app:v1", "docker-archive:a.tar:img:1" -> "img:1", "docker://host:5000/r/app:1"
// -> "host:5000/r/app:1"), so the same image written to another directory gets the
// same document.
std::string sbom_document_name(const oci::ImageRef& ref);

}  // namespace distill::check
