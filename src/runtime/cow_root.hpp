// A fresh, writable view of an unpacked root filesystem that leaves the original
// untouched, so that one unpacked image can serve many containers in turn (the
// command tests of `distill test`).
//
// Overlay: an overlayfs mount at `target` with the original as lowerdir and new
// upperdir/workdir directories under `scratch`; creating and dropping one costs a
// few system calls whatever the image's size. The kernel refuses it without
// CAP_SYS_ADMIN, or when `scratch` is itself on an overlayfs (or another
// filesystem an upper directory cannot live on); the caller then falls back to
// Copy: `cp -a --reflink=auto` of the original into `target` (a clone where the
// filesystem can, else a full copy), removed again on release.
//
// While mounted, the overlay is registered with the interrupt cleanup
// (util/interrupt_cleanup.hpp): Ctrl-C detaches it before the temporary
// directory holding it is removed.
#pragma once

#include <filesystem>

#include "util/interrupt_cleanup.hpp"
#include "util/result.hpp"

namespace distill::runtime {

class CowRoot {
 public:
  enum class Method { Overlay, Copy };

  // Makes `target` (an empty directory) a writable view of `lower`. `scratch`
  // (an empty directory, Overlay only) receives the upper and work directories.
  // An Overlay that the kernel refuses is an error naming errno's text; nothing
  // is left mounted or created then.
  static Result<CowRoot> create(const std::filesystem::path& lower,
                                const std::filesystem::path& scratch,
                                const std::filesystem::path& target, Method method);

  CowRoot(CowRoot&& other) noexcept;
  CowRoot& operator=(CowRoot&& other) noexcept;
  CowRoot(const CowRoot&) = delete;
  CowRoot& operator=(const CowRoot&) = delete;
  ~CowRoot();

  [[nodiscard]] Method method() const { return m_method; }
  [[nodiscard]] const std::filesystem::path& path() const { return m_target; }

  // Unmounts (Overlay) and removes every change, leaving `target` an empty
  // directory and `scratch` empty again. Idempotent; the destructor calls it.
  Status release();

 private:
  CowRoot(std::filesystem::path scratch, std::filesystem::path target, Method method,
          util::CleanupRegistration mounted)
      : m_scratch(std::move(scratch)),
        m_target(std::move(target)),
        m_method(method),
        m_mounted(std::move(mounted)) {}

  std::filesystem::path m_scratch;
  std::filesystem::path m_target;  // empty once released
  Method m_method;
  util::CleanupRegistration m_mounted;  // Overlay, while mounted
};

}  // namespace distill::runtime
