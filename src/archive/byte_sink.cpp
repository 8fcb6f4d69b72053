// ByteSink implementations: hashing, buffered file output, strings.
#include "archive/byte_sink.hpp"

#include <cstring>

#include "util/file_io.hpp"

namespace distill::archive {

namespace {
constexpr size_t k_file_buffer_size = size_t{256} << 10;

Error write_after_finish(const std::string& what) {
  return make_error(ErrorKind::Internal, what + ": write after finish()");
}
}  // namespace

Status HashingSink::write(const void* data, size_t size) {
  if (m_finished) {
    return write_after_finish("hashing sink");
  }
  if (size == 0) {
    return {};
  }
  m_sha.update(data, size);
  m_size += size;
  if (m_downstream != nullptr) {
    return m_downstream->write(data, size);
  }
  return {};
}

Status HashingSink::finish() {
  if (m_finished) {
    return {};
  }
  m_finished = true;
  m_digest = m_sha.finish();
  if (m_downstream != nullptr) {
    return m_downstream->finish();
  }
  return {};
}

FileSink::FileSink(int fd, std::filesystem::path name_for_errors)
    : m_fd(fd), m_name(std::move(name_for_errors)) {
  m_buffer.reserve(k_file_buffer_size);
}

FileSink::FileSink(util::AtomicFile& file) : FileSink(file.fd(), file.destination()) {}

Status FileSink::write(const void* data, size_t size) {
  if (m_finished) {
    return write_after_finish(m_name.string());
  }
  m_size += size;
  if (m_buffer.size() + size > k_file_buffer_size) {
    DISTILL_CHECK(flush());
  }
  if (size >= k_file_buffer_size) {
    return util::write_all(m_fd, data, size, m_name);
  }
  m_buffer.append(data, size);
  return {};
}

Status FileSink::flush() {
  if (m_buffer.empty()) {
    return {};
  }
  Status status = util::write_all(m_fd, m_buffer.data(), m_buffer.size(), m_name);
  m_buffer.clear();
  return status;
}

Status FileSink::finish() {
  if (m_finished) {
    return {};
  }
  m_finished = true;
  return flush();
}

Status StringSink::write(const void* data, size_t size) {
  m_out.append(static_cast<const char*>(data), size);
  return {};
}

}  // namespace distill::archive
