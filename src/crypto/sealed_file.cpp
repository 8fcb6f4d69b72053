// Sealed files: see sealed_file.hpp.
#include "crypto/sealed_file.hpp"

#include "crypto/sha256.hpp"
#include "util/file_io.hpp"

namespace distill::crypto {

std::optional<std::string> read_sealed(const std::filesystem::path& path) {
  auto text = util::read_file(path);
  if (!text.ok()) {
    return std::nullopt;
  }
  const size_t newline = text->find('\n');
  if (newline != std::string::npos) {
    auto recorded = Digest::parse(std::string_view(*text).substr(0, newline));
    if (recorded.ok() && sha256(std::string_view(*text).substr(newline + 1)) == *recorded) {
      text->erase(0, newline + 1);
      return std::move(*text);
    }
  }
  std::error_code ec;
  std::filesystem::remove(path, ec);
  return std::nullopt;
}

Status write_sealed(const std::filesystem::path& path, std::string_view content) {
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  if (ec) {
    return util::errno_error(path.parent_path(), ec.value());
  }
  std::string text = sha256(content).str() + "\n";
  text += content;
  return util::write_file_atomic(path, text);
}

std::filesystem::path SealedStore::path_for(const std::string& key) const {
  return m_dir / (key + m_extension);
}

std::optional<std::string> SealedStore::lookup(const std::string& key) const {
  return key.empty() ? std::nullopt : read_sealed(path_for(key));
}

Status SealedStore::store(const std::string& key, std::string_view content) const {
  return key.empty() ? Status{} : write_sealed(path_for(key), content);
}

void SealedStore::remove(const std::string& key) const {
  if (!key.empty()) {
    std::error_code ec;
    std::filesystem::remove(path_for(key), ec);
  }
}

}  // namespace distill::crypto
