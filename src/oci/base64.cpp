// Base64 encoding and decoding (see base64.hpp).
#include "oci/base64.hpp"

#include <cstdint>

namespace distill::oci {

namespace {

constexpr std::string_view k_base64_chars =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

}  // namespace

std::string base64_encode(std::string_view data) {
  std::string out;
  size_t i = 0;
  while (i + 2 < data.size()) {
    uint32_t n = (static_cast<uint8_t>(data[i]) << 16) | (static_cast<uint8_t>(data[i + 1]) << 8) |
                 static_cast<uint8_t>(data[i + 2]);
    out += k_base64_chars[(n >> 18) & 63];
    out += k_base64_chars[(n >> 12) & 63];
    out += k_base64_chars[(n >> 6) & 63];
    out += k_base64_chars[n & 63];
    i += 3;
  }
  size_t rest = data.size() - i;
  if (rest > 0) {
    uint32_t n = static_cast<uint32_t>(static_cast<uint8_t>(data[i])) << 16;
    if (rest == 2) {
      n |= static_cast<uint32_t>(static_cast<uint8_t>(data[i + 1])) << 8;
    }
    out += k_base64_chars[(n >> 18) & 63];
    out += k_base64_chars[(n >> 12) & 63];
    out += rest == 2 ? k_base64_chars[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    if (c == '=' || c == '\n' || c == '\r') {
      continue;
    }
    size_t value = k_base64_chars.find(c);
    if (value == std::string_view::npos) {
      return std::nullopt;
    }
    buffer = (buffer << 6) | static_cast<uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xff);
    }
  }
  return out;
}

}  // namespace distill::oci
