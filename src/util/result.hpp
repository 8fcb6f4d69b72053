// Result<T>: the value of an operation that can fail, or the Error saying why.
//
// Low-level code returns Result instead of throwing, so every failure carries a
// kind and a message naming the file, line, package or URL at fault. The CLI's
// single catch point turns an Error into `distill: error: <message>`.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace distill {

enum class ErrorKind {
  NotFound,      // a file, package, blob or reference that does not exist
  Corrupt,       // data failed a checksum, signature or format check
  Io,            // the operating system refused a read or write
  Network,       // a transfer failed
  InvalidInput,  // the user's spec, flags or reference are wrong
  Unsupported,   // valid, but not something distill does
  Internal,      // a bug
};

const char* to_string(ErrorKind kind);

struct Error {
  ErrorKind kind = ErrorKind::Internal;
  std::string message;
  // The exit status this failure asks of the process, when it has one of its
  // own (a container whose program could not be found: 127, as a shell
  // gives); 0: its command's usual failure status.
  int exit_status = 0;

  // Prefixes context: Error{Io, "x"}.context("reading y") -> "reading y: x".
  [[nodiscard]] Error context(const std::string& what) const {
    return Error{kind, what + ": " + message, exit_status};
  }
};

inline Error make_error(ErrorKind kind, std::string message) {
  return Error{kind, std::move(message)};
}

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : m_data(std::in_place_index<0>, std::move(value)) {}      // NOLINT
  Result(Error error) : m_data(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  [[nodiscard]] bool ok() const { return m_data.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(m_data);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(m_data);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(m_data));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  [[nodiscard]] const Error& error() const& {
    assert(!ok());
    return std::get<1>(m_data);
  }
  [[nodiscard]] Error&& error() && {
    assert(!ok());
    return std::get<1>(std::move(m_data));
  }

 private:
  std::variant<T, Error> m_data;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : m_error(std::move(error)), m_failed(true) {}  // NOLINT

  [[nodiscard]] bool ok() const { return !m_failed; }
  explicit operator bool() const { return ok(); }
  [[nodiscard]] const Error& error() const& {
    assert(!ok());
    return m_error;
  }
  [[nodiscard]] Error&& error() && {
    assert(!ok());
    return std::move(m_error);
  }

 private:
  Error m_error;
  bool m_failed = false;
};

using Status = Result<void>;

}  // namespace distill

#define DISTILL_CONCAT_INNER(a, b) a##b
#define DISTILL_CONCAT(a, b) DISTILL_CONCAT_INNER(a, b)

// DISTILL_TRY(auto x, expr): evaluates expr (a Result<T>); on error returns the
// error from the enclosing function, else binds the value to `x`. `decl` is a
// declaration, which parentheses would break.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define DISTILL_TRY(decl, expr)                                       \
  auto DISTILL_CONCAT(distill_try_, __LINE__) = (expr);               \
  if (!DISTILL_CONCAT(distill_try_, __LINE__).ok()) {                 \
    return std::move(DISTILL_CONCAT(distill_try_, __LINE__)).error(); \
  }                                                                   \
  decl = std::move(DISTILL_CONCAT(distill_try_, __LINE__)).value()
// NOLINTEND(bugprone-macro-parentheses)

// DISTILL_CHECK(expr): evaluates a Status (or any Result) and returns its error.
#define DISTILL_CHECK(expr)                                               \
  do {                                                                    \
    auto DISTILL_CONCAT(distill_check_, __LINE__) = (expr);               \
    if (!DISTILL_CONCAT(distill_check_, __LINE__).ok()) {                 \
      return std::move(DISTILL_CONCAT(distill_check_, __LINE__)).error(); \
    }                                                                     \
  } while (false)
