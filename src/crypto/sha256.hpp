// Streaming SHA-256 (OpenSSL EVP) and the "sha256:<hex>" digest used by OCI; MD5
// and SHA-1 for the formats that name them.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace distill::crypto {

// An OCI content digest, always SHA-256 here: "sha256:" + 64 lowercase hex.
class Digest {
 public:
  Digest() = default;
  // Accepts "sha256:<64 hex>"; anything else is InvalidInput.
  static Result<Digest> parse(std::string_view text);
  // Accepts a bare 64-char hex string.
  static Result<Digest> from_hex(std::string_view hex);

  [[nodiscard]] const std::string& hex() const { return m_hex; }
  [[nodiscard]] std::string str() const { return "sha256:" + m_hex; }
  [[nodiscard]] bool empty() const { return m_hex.empty(); }
  friend bool operator==(const Digest&, const Digest&) = default;
  friend auto operator<=>(const Digest&, const Digest&) = default;

 private:
  std::string m_hex;
};

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(const void* data, size_t size);
  void update(std::string_view data) { update(data.data(), data.size()); }
  // Ends the computation; the object may be reused after reset().
  Digest finish();
  void reset();

 private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

Digest sha256(std::string_view data);

// A hash wanted as hex text, not as a Digest: MD5 for dpkg's md5sums, SHA-1 for
// formats that require it (SPDX 2.3 file checksums and package verification
// codes); never for integrity.
class HexHash {
 public:
  enum class Algorithm { Md5, Sha1 };
  explicit HexHash(Algorithm algorithm);
  ~HexHash();
  HexHash(const HexHash&) = delete;
  HexHash& operator=(const HexHash&) = delete;
  void update(const void* data, size_t size);
  void update(std::string_view data) { update(data.data(), data.size()); }
  std::string finish_hex();

 private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

class Md5 : public HexHash {
 public:
  Md5() : HexHash(Algorithm::Md5) {}
};

class Sha1 : public HexHash {
 public:
  Sha1() : HexHash(Algorithm::Sha1) {}
};

std::string md5_hex(std::string_view data);
std::string sha1_hex(std::string_view data);

std::string to_hex(const unsigned char* data, size_t size);

}  // namespace distill::crypto
