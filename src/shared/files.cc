#include "files.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace nova {
namespace {

bool ReadAll(int fd, std::string& out, bool from_start, bool one_piece) {
  out.clear();
  char buffer[4096];
  off_t offset = 0;
  for (;;) {
    ssize_t n =
        from_start ? ::pread(fd, buffer, sizeof buffer, offset) : ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) return true;
    out.append(buffer, static_cast<size_t>(n));
    offset += n;
    if (one_piece && static_cast<size_t>(n) < sizeof buffer) return true;
  }
}

}  // namespace

bool ReadSmallFile(int dir_fd, const char* name, std::string& out, Pieces pieces) {
  int fd = ::openat(dir_fd, name, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = ReadAll(fd, out, false, pieces == Pieces::kOne);
  ::close(fd);
  return ok;
}

bool ReadFromStart(int fd, std::string& out, Pieces pieces) {
  return ReadAll(fd, out, true, pieces == Pieces::kOne);
}

std::optional<std::string> ReadFile(const std::string& path, Pieces pieces) {
  std::string text;
  if (!ReadSmallFile(AT_FDCWD, path.c_str(), text, pieces)) return std::nullopt;
  return text;
}

}  // namespace nova
