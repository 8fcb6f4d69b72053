// FileContentReader: a ContentReader over an open file, for writing host files
// (application files, blobs) into tar streams without loading them whole.
#pragma once

#include <filesystem>

#include "archive/tar_entry.hpp"
#include "util/fd.hpp"

namespace distill::archive {

class FileContentReader final : public ContentReader {
 public:
  FileContentReader(util::Fd fd, std::filesystem::path path)
      : m_fd(std::move(fd)), m_path(std::move(path)) {}
  Result<size_t> read(void* buffer, size_t size) override;

 private:
  util::Fd m_fd;
  std::filesystem::path m_path;
};

}  // namespace distill::archive
