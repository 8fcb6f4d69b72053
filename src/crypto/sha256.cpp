#include "crypto/sha256.hpp"

// SHA-256 goes through OpenSSL's SHA256_* functions, not EVP: the first EVP
// digest of a process loads openssl.cnf and the default provider and names
// every algorithm it has (2.2-2.8 ms here, a tenth of a no-op rebuild, on the
// path before any layer starts), while SHA256_* run the same assembly
// (SHA-NI where the CPU has it) with no set-up. They are deprecated in
// OpenSSL 3 in favour of EVP, not removed.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/evp.h>
#include <openssl/sha.h>

namespace distill::crypto {

namespace {

bool is_lower_hex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

struct EvpCtx {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const EVP_MD* md;
  explicit EvpCtx(const EVP_MD* m) : md(m) { EVP_DigestInit_ex(ctx, md, nullptr); }
  ~EvpCtx() { EVP_MD_CTX_free(ctx); }
  EvpCtx(const EvpCtx&) = delete;
  EvpCtx& operator=(const EvpCtx&) = delete;
  std::string finish() {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx, out, &len);
    EVP_DigestInit_ex(ctx, md, nullptr);
    return to_hex(out, len);
  }
};

}  // namespace

std::string to_hex(const unsigned char* data, size_t size) {
  static const char* digits = "0123456789abcdef";
  std::string out(size * 2, '0');
  for (size_t i = 0; i < size; ++i) {
    out[2 * i] = digits[data[i] >> 4];
    out[2 * i + 1] = digits[data[i] & 0xf];
  }
  return out;
}

Result<Digest> Digest::from_hex(std::string_view hex) {
  if (hex.size() != 64 || !is_lower_hex(hex)) {
    return make_error(ErrorKind::InvalidInput,
                      "not a sha256 hex digest: '" + std::string(hex.substr(0, 80)) + "'");
  }
  Digest d;
  d.m_hex = std::string(hex);
  return d;
}

Result<Digest> Digest::parse(std::string_view text) {
  constexpr std::string_view prefix = "sha256:";
  if (text.substr(0, prefix.size()) != prefix) {
    return make_error(ErrorKind::InvalidInput,
                      "not a sha256 digest: '" + std::string(text.substr(0, 80)) + "'");
  }
  return from_hex(text.substr(prefix.size()));
}

struct Sha256::Impl {
  SHA256_CTX ctx{};
  Impl() { SHA256_Init(&ctx); }
};

Sha256::Sha256() : m_impl(std::make_unique<Impl>()) {}
Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::update(const void* data, size_t size) { SHA256_Update(&m_impl->ctx, data, size); }

Digest Sha256::finish() {
  unsigned char out[SHA256_DIGEST_LENGTH];
  SHA256_Final(out, &m_impl->ctx);
  SHA256_Init(&m_impl->ctx);
  Digest d;
  auto parsed = Digest::from_hex(to_hex(out, sizeof out));
  return parsed.ok() ? *parsed : d;
}

void Sha256::reset() { SHA256_Init(&m_impl->ctx); }

Digest sha256(std::string_view data) {
  Sha256 h;
  h.update(data);
  return h.finish();
}

struct HexHash::Impl {
  explicit Impl(const EVP_MD* md) : ctx(md) {}
  EvpCtx ctx;
};

HexHash::HexHash(Algorithm algorithm)
    : m_impl(std::make_unique<Impl>(algorithm == Algorithm::Md5 ? EVP_md5() : EVP_sha1())) {}
HexHash::~HexHash() = default;
void HexHash::update(const void* data, size_t size) {
  EVP_DigestUpdate(m_impl->ctx.ctx, data, size);
}
std::string HexHash::finish_hex() { return m_impl->ctx.finish(); }

std::string md5_hex(std::string_view data) {
  Md5 h;
  h.update(data);
  return h.finish_hex();
}

std::string sha1_hex(std::string_view data) {
  Sha1 h;
  h.update(data);
  return h.finish_hex();
}

}  // namespace distill::crypto
