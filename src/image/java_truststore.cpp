// JKS trust store writer; the byte layout is described in java_truststore.hpp
// (OpenJDK sun.security.provider.JavaKeyStore, keystore version 2).
#include "image/java_truststore.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <initializer_list>
#include <limits>
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include "crypto/openssl_handles.hpp"
#include "crypto/sha256.hpp"

namespace distill::image {
namespace {

constexpr uint32_t k_jks_magic = 0xFEEDFEEDu;
constexpr uint32_t k_jks_version = 2;
constexpr uint32_t k_trusted_cert_tag = 2;
constexpr std::string_view k_integrity_salt = "Mighty Aphrodite";
constexpr size_t k_max_utf_bytes = 65535;
constexpr size_t k_fallback_hex_chars = 16;

using crypto::BioPtr;
using crypto::MdCtxPtr;
using crypto::OpensslBytes;
using crypto::OpensslText;
using crypto::X509Ptr;

// The reason text of OpenSSL's latest error, clearing the queue.
std::string openssl_reason() {
  unsigned long code = ERR_peek_last_error();
  const char* reason = code != 0 ? ERR_reason_error_string(code) : nullptr;
  std::string text = reason != nullptr ? reason : "unknown OpenSSL error";
  ERR_clear_error();
  return text;
}

// Decodes UTF-8 into code points; nullopt for malformed input (overlong forms,
// surrogates, values above U+10FFFF, truncated sequences).
std::optional<std::u32string> decode_utf8(std::string_view text) {
  std::u32string out;
  size_t i = 0;
  while (i < text.size()) {
    auto lead = static_cast<unsigned char>(text[i]);
    size_t extra = 0;
    char32_t cp = 0;
    if (lead < 0x80) {
      cp = lead;
    } else if ((lead & 0xE0) == 0xC0) {
      extra = 1;
      cp = lead & 0x1F;
    } else if ((lead & 0xF0) == 0xE0) {
      extra = 2;
      cp = lead & 0x0F;
    } else if ((lead & 0xF8) == 0xF0) {
      extra = 3;
      cp = lead & 0x07;
    } else {
      return std::nullopt;
    }
    if (i + extra >= text.size()) {
      return std::nullopt;
    }
    for (size_t k = 1; k <= extra; ++k) {
      auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) {
        return std::nullopt;
      }
      cp = (cp << 6) | (next & 0x3F);
    }
    static constexpr char32_t k_min_for_length[] = {0, 0x80, 0x800, 0x10000};
    if (cp < k_min_for_length[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return std::nullopt;
    }
    out.push_back(cp);
    i += extra + 1;
  }
  return out;
}

// Java's DataOutputStream.writeUTF body: UTF-16 code units, each as 1-3 bytes
// ("modified UTF-8": U+0000 takes two bytes, supplementary characters are two
// encoded surrogates).
std::string modified_utf8(const std::u32string& text) {
  std::string out;
  auto put_unit = [&out](char16_t unit) {
    if (unit >= 0x0001 && unit <= 0x007F) {
      out.push_back(static_cast<char>(unit));
    } else if (unit <= 0x07FF) {
      out.push_back(static_cast<char>(0xC0 | (unit >> 6)));
      out.push_back(static_cast<char>(0x80 | (unit & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xE0 | (unit >> 12)));
      out.push_back(static_cast<char>(0x80 | ((unit >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (unit & 0x3F)));
    }
  };
  for (char32_t cp : text) {
    if (cp >= 0x10000) {
      char32_t v = cp - 0x10000;
      put_unit(static_cast<char16_t>(0xD800 + (v >> 10)));
      put_unit(static_cast<char16_t>(0xDC00 + (v & 0x3FF)));
    } else {
      put_unit(static_cast<char16_t>(cp));
    }
  }
  return out;
}

// Lower case for ASCII, Latin-1 and Latin Extended-A (the letters found in CA
// names); other characters are kept as they are.
char32_t to_lower(char32_t cp) {
  if (cp >= U'A' && cp <= U'Z') {
    return cp + 0x20;
  }
  if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) {
    return cp + 0x20;
  }
  if (cp == 0x178) {
    return 0xFF;
  }
  bool even_upper = (cp >= 0x100 && cp <= 0x137) || (cp >= 0x14A && cp <= 0x177);
  bool odd_upper = (cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17E);
  if ((even_upper && cp % 2 == 0) || (odd_upper && cp % 2 == 1)) {
    return cp + 1;
  }
  return cp;
}

class BigEndianWriter {
 public:
  void u16(uint16_t v) {
    m_out.push_back(static_cast<char>(v >> 8));
    m_out.push_back(static_cast<char>(v & 0xFF));
  }
  void u32(uint32_t v) {
    u16(static_cast<uint16_t>(v >> 16));
    u16(static_cast<uint16_t>(v & 0xFFFF));
  }
  void u64(uint64_t v) {
    u32(static_cast<uint32_t>(v >> 32));
    u32(static_cast<uint32_t>(v & 0xFFFFFFFFu));
  }
  // `encoded` is already modified UTF-8 and at most 65535 bytes.
  void utf(std::string_view encoded) {
    u16(static_cast<uint16_t>(encoded.size()));
    bytes(encoded);
  }
  void bytes(std::string_view data) { m_out.append(data); }
  [[nodiscard]] std::string& data() { return m_out; }

 private:
  std::string m_out;
};

struct TrustedCert {
  std::string der;
  std::u32string name;  // the alias' file part before de-duplication
};

// The subject attribute Debian's file name would come from, as code points.
std::u32string subject_label(X509* cert) {
  X509_NAME* subject = X509_get_subject_name(cert);
  for (int nid : {NID_commonName, NID_organizationalUnitName, NID_organizationName}) {
    int index = subject != nullptr ? X509_NAME_get_index_by_NID(subject, nid, -1) : -1;
    if (index < 0) {
      continue;
    }
    ASN1_STRING* value = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, index));
    unsigned char* utf8 = nullptr;
    int length = ASN1_STRING_to_UTF8(&utf8, value);
    if (length < 0) {
      ERR_clear_error();
      continue;
    }
    OpensslBytes owner(utf8);
    auto decoded = decode_utf8(
        std::string_view(reinterpret_cast<const char*>(utf8), static_cast<size_t>(length)));
    if (!decoded) {
      continue;
    }
    std::u32string label;
    for (char32_t cp : *decoded) {
      if (cp == U' ' || cp == U'/' || cp == U',' || cp < 0x20 || cp == 0x7F) {
        label.push_back(U'_');
      } else if (cp == U'(' || cp == U')') {
        label.push_back(U'=');
      } else {
        label.push_back(to_lower(cp));
      }
    }
    if (label.find_first_not_of(U'_') != std::u32string::npos) {
      return label;
    }
  }
  return {};
}

std::u32string ascii_to_u32(std::string_view text) { return {text.begin(), text.end()}; }

// Decodes one PEM certificate body to canonical DER and names it.
Result<TrustedCert> decode_certificate(std::string_view pem_name, const unsigned char* data,
                                       long length, size_t cert_index) {
  const unsigned char* cursor = data;
  X509Ptr cert(pem_name == PEM_STRING_X509_TRUSTED ? d2i_X509_AUX(nullptr, &cursor, length)
                                                   : d2i_X509(nullptr, &cursor, length));
  std::string where = "CA bundle: certificate " + std::to_string(cert_index);
  if (!cert) {
    return make_error(ErrorKind::Corrupt,
                      where + " is not a valid X.509 certificate: " + openssl_reason());
  }
  if (cursor != data + length) {
    return make_error(ErrorKind::Corrupt, where + " has trailing bytes after its DER encoding");
  }
  int der_length = i2d_X509(cert.get(), nullptr);
  if (der_length <= 0) {
    return make_error(ErrorKind::Corrupt, where + " cannot be re-encoded: " + openssl_reason());
  }
  TrustedCert entry;
  entry.der.resize(static_cast<size_t>(der_length));
  auto* out = reinterpret_cast<unsigned char*>(entry.der.data());
  if (i2d_X509(cert.get(), &out) != der_length) {
    return make_error(ErrorKind::Internal, where + ": i2d_X509 changed length");
  }
  entry.name = subject_label(cert.get());
  if (entry.name.empty()) {
    entry.name = ascii_to_u32(crypto::sha256(entry.der).hex().substr(0, k_fallback_hex_chars));
  }
  return entry;
}

// Reads every certificate of the bundle, in order.
Result<std::vector<TrustedCert>> read_bundle(std::string_view pem_bundle) {
  if (pem_bundle.size() > static_cast<size_t>(std::numeric_limits<int>::max())) {
    return make_error(ErrorKind::InvalidInput, "CA bundle: larger than 2 GiB");
  }
  ERR_clear_error();
  BioPtr bio(BIO_new_mem_buf(pem_bundle.data(), static_cast<int>(pem_bundle.size())));
  if (!bio) {
    return make_error(ErrorKind::Internal, "CA bundle: BIO_new_mem_buf failed");
  }
  std::vector<TrustedCert> certs;
  size_t block_index = 0;
  for (;;) {
    char* name_raw = nullptr;
    char* header_raw = nullptr;
    unsigned char* data_raw = nullptr;
    long length = 0;
    int read = PEM_read_bio(bio.get(), &name_raw, &header_raw, &data_raw, &length);
    OpensslText name(name_raw);
    OpensslText header(header_raw);
    OpensslBytes data(data_raw);
    if (read == 0) {
      unsigned long code = ERR_peek_last_error();
      if (ERR_GET_LIB(code) == ERR_LIB_PEM && ERR_GET_REASON(code) == PEM_R_NO_START_LINE) {
        ERR_clear_error();
        break;
      }
      return make_error(ErrorKind::Corrupt, "CA bundle: PEM block " +
                                                std::to_string(block_index + 1) + " (certificate " +
                                                std::to_string(certs.size() + 1) +
                                                ") is malformed: " + openssl_reason());
    }
    ++block_index;
    std::string_view pem_name(name.get());
    if (pem_name != PEM_STRING_X509 && pem_name != PEM_STRING_X509_OLD &&
        pem_name != PEM_STRING_X509_TRUSTED) {
      continue;
    }
    DISTILL_TRY(TrustedCert entry,
                decode_certificate(pem_name, data.get(), length, certs.size() + 1));
    certs.push_back(std::move(entry));
  }
  return certs;
}

// "debian:<name>.pem", "debian:<name>_2.pem", ...: the first unused, encoded.
std::string unique_alias(const std::u32string& name, std::set<std::string>& used) {
  std::u32string base = name;
  std::u32string prefix = ascii_to_u32("debian:");
  std::u32string suffix = ascii_to_u32(".pem");
  for (unsigned n = 1;; ++n) {
    std::u32string alias = prefix + base;
    if (n > 1) {
      alias += ascii_to_u32("_" + std::to_string(n));
    }
    alias += suffix;
    std::string encoded = modified_utf8(alias);
    if (encoded.size() > k_max_utf_bytes) {
      // Only a hostile subject gets here; cut it and try again.
      base.resize(base.size() / 2);
      n = 0;
      continue;
    }
    if (used.insert(encoded).second) {
      return encoded;
    }
  }
}

// The password as Java hands it to the digest: each UTF-16 unit, big-endian.
Result<std::string> password_bytes(const std::string& password) {
  auto decoded = decode_utf8(password);
  if (!decoded) {
    return make_error(ErrorKind::InvalidInput, "Java trust store password is not valid UTF-8");
  }
  std::string out;
  auto put = [&out](char32_t unit) {
    out.push_back(static_cast<char>((unit >> 8) & 0xFF));
    out.push_back(static_cast<char>(unit & 0xFF));
  };
  for (char32_t cp : *decoded) {
    if (cp >= 0x10000) {
      char32_t v = cp - 0x10000;
      put(0xD800 + (v >> 10));
      put(0xDC00 + (v & 0x3FF));
    } else {
      put(cp);
    }
  }
  return out;
}

Result<std::string> sha1(std::initializer_list<std::string_view> parts) {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha1(), nullptr) != 1) {
    return make_error(ErrorKind::Internal, "SHA-1 unavailable: " + openssl_reason());
  }
  for (std::string_view part : parts) {
    if (EVP_DigestUpdate(ctx.get(), part.data(), part.size()) != 1) {
      return make_error(ErrorKind::Internal, "SHA-1 update failed: " + openssl_reason());
    }
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_length = 0;
  if (EVP_DigestFinal_ex(ctx.get(), md, &md_length) != 1) {
    return make_error(ErrorKind::Internal, "SHA-1 final failed: " + openssl_reason());
  }
  return std::string(reinterpret_cast<const char*>(md), md_length);
}

}  // namespace

Result<std::string> make_java_truststore(std::string_view pem_bundle,
                                         int64_t creation_epoch_seconds,
                                         const std::string& password) {
  constexpr int64_t k_max_seconds = std::numeric_limits<int64_t>::max() / 1000;
  if (creation_epoch_seconds < 0 || creation_epoch_seconds > k_max_seconds) {
    return make_error(ErrorKind::InvalidInput,
                      "Java trust store: creation time " + std::to_string(creation_epoch_seconds) +
                          " is outside 0.." + std::to_string(k_max_seconds) + " seconds");
  }
  DISTILL_TRY(std::string password_utf16, password_bytes(password));
  DISTILL_TRY(std::vector<TrustedCert> certs, read_bundle(pem_bundle));
  if (certs.empty()) {
    return make_error(ErrorKind::InvalidInput, "CA bundle: no CERTIFICATE block found");
  }
  if (certs.size() > std::numeric_limits<uint32_t>::max()) {
    return make_error(ErrorKind::InvalidInput, "CA bundle: too many certificates");
  }
  const std::string cert_type = modified_utf8(ascii_to_u32("X.509"));
  const auto millis = static_cast<uint64_t>(creation_epoch_seconds) * 1000u;

  BigEndianWriter out;
  out.u32(k_jks_magic);
  out.u32(k_jks_version);
  out.u32(static_cast<uint32_t>(certs.size()));
  std::set<std::string> used_aliases;
  for (const TrustedCert& cert : certs) {
    if (cert.der.size() > std::numeric_limits<uint32_t>::max()) {
      return make_error(ErrorKind::InvalidInput, "CA bundle: certificate larger than 4 GiB");
    }
    out.u32(k_trusted_cert_tag);
    out.utf(unique_alias(cert.name, used_aliases));
    out.u64(millis);
    out.utf(cert_type);
    out.u32(static_cast<uint32_t>(cert.der.size()));
    out.bytes(cert.der);
  }
  DISTILL_TRY(std::string digest, sha1({password_utf16, k_integrity_salt, out.data()}));
  out.bytes(digest);
  return std::move(out.data());
}

}  // namespace distill::image
