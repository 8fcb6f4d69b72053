// Local CA certificates into the CA bundle and the Java trust store; the rules
// (update-ca-certificates' order and format) are described in local_ca.hpp.
#include "image/local_ca.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <limits>
#include <memory>

#include "crypto/openssl_handles.hpp"
#include "image/java_truststore.hpp"
#include "util/file_io.hpp"

namespace distill::image {

namespace {

using crypto::BioPtr;
using crypto::OpensslBytes;
using crypto::OpensslText;
using crypto::X509Ptr;

// Empty when `pem` is one or more PEM CERTIFICATE blocks, each an X.509
// certificate (text between blocks is allowed, as in Debian's own files);
// otherwise what is wrong with it.
std::string check_pem_certificates(const std::string& pem) {
  if (pem.size() > static_cast<size_t>(std::numeric_limits<int>::max())) {
    return "too large";
  }
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) {
    return "out of memory";
  }
  int count = 0;
  for (;;) {
    char* name_raw = nullptr;
    char* header_raw = nullptr;
    unsigned char* data_raw = nullptr;
    long length = 0;
    int ok = PEM_read_bio(bio.get(), &name_raw, &header_raw, &data_raw, &length);
    OpensslText name(name_raw);
    OpensslText header(header_raw);
    OpensslBytes data(data_raw);
    if (ok == 0) {
      unsigned long code = ERR_peek_last_error();
      ERR_clear_error();
      if (count > 0 && ERR_GET_REASON(code) == PEM_R_NO_START_LINE) {
        return {};  // end of input
      }
      return count == 0 ? "not a PEM certificate"
                        : "PEM block " + std::to_string(count + 1) + " is malformed";
    }
    ++count;
    if (std::string_view(name.get()) != "CERTIFICATE") {
      return "PEM block " + std::to_string(count) + " is a " + name.get() + ", not a CERTIFICATE";
    }
    const unsigned char* cursor = data.get();
    X509Ptr cert(d2i_X509(nullptr, &cursor, length));
    if (!cert || cursor != data.get() + length) {
      ERR_clear_error();
      return "PEM block " + std::to_string(count) + " is not an X.509 certificate";
    }
  }
}

}  // namespace

bool is_local_ca_path(std::string_view path) {
  while (!path.empty() && path.front() == '/') {
    path.remove_prefix(1);
  }
  constexpr std::string_view suffix = ".crt";
  return path.size() > k_local_ca_dir.size() + 1 + suffix.size() &&
         path.substr(0, k_local_ca_dir.size()) == k_local_ca_dir &&
         path[k_local_ca_dir.size()] == '/' && path.substr(path.size() - suffix.size()) == suffix &&
         path.back() != '/';
}

Result<std::vector<LocalCertificate>> local_certificates(
    const std::vector<GeneratedEntry>& entries) {
  std::vector<LocalCertificate> out;
  for (const auto& g : entries) {
    if (g.entry.type != archive::EntryType::File || !is_local_ca_path(g.entry.path)) {
      continue;
    }
    std::string name = g.entry.path;
    LocalCertificate cert;
    cert.path = g.entry.path;
    if (!g.source.empty()) {
      name = g.source.string() + " (/" + g.entry.path + ")";
      DISTILL_TRY(cert.pem, util::read_file(g.source));
    } else {
      name = "/" + g.entry.path;
      cert.pem = g.content;
    }
    std::string problem = check_pem_certificates(cert.pem);
    if (!problem.empty()) {
      return make_error(
          ErrorKind::InvalidInput,
          name + ": a CA certificate for update-ca-certificates must be PEM: " + problem);
    }
    out.push_back(std::move(cert));
  }
  std::sort(out.begin(), out.end(),
            [](const LocalCertificate& a, const LocalCertificate& b) { return a.path < b.path; });
  return out;
}

std::string bundle_with_local_certificates(std::string package_bundle,
                                           const std::vector<LocalCertificate>& certificates) {
  for (const auto& cert : certificates) {
    if (!package_bundle.empty() && package_bundle.back() != '\n') {
      package_bundle += '\n';
    }
    package_bundle += cert.pem;
  }
  if (!package_bundle.empty() && package_bundle.back() != '\n') {
    package_bundle += '\n';
  }
  return package_bundle;
}

bool has_java_runtime(const std::vector<InstalledPackage>& packages) {
  return std::any_of(packages.begin(), packages.end(), [](const InstalledPackage& p) {
    return p.name.rfind("openjdk-", 0) == 0 && p.name.find("-jre-headless") != std::string::npos;
  });
}

std::vector<LocalCertificate> merge_local_certificates(std::vector<LocalCertificate> base,
                                                       std::vector<LocalCertificate> added) {
  for (auto& cert : added) {
    auto same = std::find_if(base.begin(), base.end(),
                             [&](const LocalCertificate& b) { return b.path == cert.path; });
    if (same != base.end()) {
      *same = std::move(cert);
    } else {
      base.push_back(std::move(cert));
    }
  }
  std::sort(base.begin(), base.end(),
            [](const LocalCertificate& a, const LocalCertificate& b) { return a.path < b.path; });
  return base;
}

bool must_regenerate_ca_files(const std::vector<LocalCertificate>& certificates,
                              bool adds_certificates, const std::vector<InstalledPackage>& added,
                              const std::vector<InstalledPackage>& all_packages) {
  if (certificates.empty()) {
    return false;
  }
  bool adds_ca_package = std::any_of(added.begin(), added.end(), [](const InstalledPackage& p) {
    return p.name == "ca-certificates";
  });
  return adds_certificates || adds_ca_package || (!added.empty() && has_java_runtime(all_packages));
}

Result<std::vector<GeneratedEntry>> local_ca_files(
    const std::vector<InstalledPackage>& packages,
    const std::vector<LocalCertificate>& certificates, int64_t epoch,
    std::vector<std::string>& what) {
  std::vector<GeneratedEntry> out;
  auto ca = std::find_if(packages.begin(), packages.end(),
                         [](const InstalledPackage& p) { return p.name == "ca-certificates"; });
  if (certificates.empty() || ca == packages.end()) {
    return out;
  }
  DISTILL_TRY(auto package_bundle, read_ca_bundle(*ca));
  std::string bundle = bundle_with_local_certificates(std::move(package_bundle), certificates);
  if (has_java_runtime(packages)) {
    DISTILL_TRY(auto store, make_java_truststore(bundle, epoch));
    out.push_back(make_file(std::string(k_java_truststore), std::move(store), 0644, epoch));
  }
  out.push_back(make_file(std::string(k_ca_bundle), std::move(bundle), 0644, epoch));
  what.push_back("CA bundle with " + std::to_string(certificates.size()) + " local certificate" +
                 (certificates.size() == 1 ? "" : "s"));
  return out;
}

}  // namespace distill::image
