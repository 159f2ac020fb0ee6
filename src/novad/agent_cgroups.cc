#include "agent_cgroups.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace nova {
namespace {

bool ReadAll(int fd, std::string& out, bool from_start) {
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
  }
}

bool IsSubdirectoryEntry(const dirent& entry) {
  if (entry.d_type != DT_DIR && entry.d_type != DT_UNKNOWN) return false;
  return std::strcmp(entry.d_name, ".") != 0 && std::strcmp(entry.d_name, "..") != 0;
}

}  // namespace

bool ReadSmallFile(int dir_fd, const char* name, std::string& out) {
  int fd = ::openat(dir_fd, name, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = ReadAll(fd, out, false);
  ::close(fd);
  return ok;
}

AgentCgroups::AgentCgroups(std::vector<std::string> files, std::string slice, size_t max_cached)
    : files_(std::move(files)), slice_path_(std::move(slice)), max_cached_(max_cached) {}

AgentCgroups::~AgentCgroups() { Forget(); }

void AgentCgroups::CloseAll(Cached& cached) {
  for (int& fd : cached.fds) {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
}

void AgentCgroups::Forget() {
  for (auto& [name, cached] : cached_) CloseAll(cached);
  cached_.clear();
  if (slice_) ::closedir(slice_);
  slice_ = nullptr;
}

bool AgentCgroups::Entry::Read(size_t file, std::string& out) const {
  const std::string& name = owner_.files_.at(file);
  if (!fds_) {
    std::string path = std::string(dir_name_) + "/" + name;
    return ReadSmallFile(slice_fd_, path.c_str(), out);
  }
  int& fd = (*fds_)[file];
  if (fd < 0) {
    std::string path = std::string(dir_name_) + "/" + name;
    fd = ::openat(slice_fd_, path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
  }
  if (ReadAll(fd, out, true)) return true;
  ::close(fd);  // gone meanwhile; opened again if it comes back
  fd = -1;
  return false;
}

int AgentCgroups::Entry::OpenDirectory() const {
  return ::openat(slice_fd_, dir_name_, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

bool AgentCgroups::ForEach(const std::function<void(const Entry&)>& visit) {
  struct stat slice_stat {};
  if (::stat(slice_path_.c_str(), &slice_stat) != 0) {
    Forget();
    return false;
  }
  if (!slice_ || slice_stat.st_ino != slice_inode_) {
    Forget();
    slice_ = ::opendir(slice_path_.c_str());
    slice_inode_ = slice_stat.st_ino;
    if (!slice_) return false;
  }
  ::rewinddir(slice_);
  int slice_fd = ::dirfd(slice_);
  ++generation_;
  while (dirent* d = ::readdir(slice_)) {
    if (!IsSubdirectoryEntry(*d)) continue;
    struct stat st {};
    if (::fstatat(slice_fd, d->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode)) {
      continue;
    }
    std::vector<int>* fds = nullptr;
    auto it = cached_.find(d->d_name);
    if (it == cached_.end() && cached_.size() < max_cached_) {
      it = cached_.try_emplace(d->d_name).first;
      it->second.fds.assign(files_.size(), -1);
      it->second.inode = st.st_ino;
    }
    if (it != cached_.end()) {
      Cached& cached = it->second;
      cached.generation = generation_;
      if (cached.inode != st.st_ino) {  // made anew under the same name
        CloseAll(cached);
        cached.inode = st.st_ino;
      }
      fds = &cached.fds;
    }
    visit(Entry(*this, slice_fd, d->d_name, st, fds));
  }
  for (auto it = cached_.begin(); it != cached_.end();) {
    if (it->second.generation == generation_) {
      ++it;
    } else {
      CloseAll(it->second);
      it = cached_.erase(it);
    }
  }
  return true;
}

}  // namespace nova
