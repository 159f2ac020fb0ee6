#include "agent_cgroups.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "files.h"
#include "text.h"

namespace nova {
namespace {

// The cgroup files the kernel lists an entry at a time (a pid, a thread)
// and may return short before their end; every other one it makes whole.
bool OnePiece(const std::string& file) {
  return file != "cgroup.procs" && file != "cgroup.threads";
}

bool IsSubdirectoryEntry(const dirent& entry) {
  if (entry.d_type != DT_DIR && entry.d_type != DT_UNKNOWN) return false;
  return std::strcmp(entry.d_name, ".") != 0 && std::strcmp(entry.d_name, "..") != 0;
}

}  // namespace

std::optional<uint64_t> FlatKeyedValue(std::string_view text, std::string_view key) {
  while (!text.empty()) {
    std::string_view line = TakeLine(text);
    if (line.size() <= key.size() || line.substr(0, key.size()) != key || line[key.size()] != ' ')
      continue;
    std::string_view number = line.substr(key.size() + 1);
    uint64_t value = 0;
    auto [ptr, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
    if (ec != std::errc()) return std::nullopt;
    return value;
  }
  return std::nullopt;
}

std::optional<uint64_t> OomKillCount(const std::string& cgroup_dir) {
  auto text = ReadFile(cgroup_dir + "/memory.events", Pieces::kOne);
  if (!text) return std::nullopt;
  return FlatKeyedValue(*text, "oom_kill");
}

std::optional<std::optional<uint64_t>> CgroupLimit(std::string_view text) {
  if (text.starts_with("max")) return std::optional<uint64_t>();
  uint64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc()) return std::nullopt;
  return std::optional<uint64_t>(value);
}

std::optional<uint64_t> MemoryMaxOf(const std::string& cgroup_dir) {
  auto text = ReadFile(cgroup_dir + "/memory.max", Pieces::kOne);
  if (!text) return std::nullopt;
  auto limit = CgroupLimit(*text);
  if (!limit) return std::nullopt;
  return limit->value_or(UINT64_MAX);
}

std::optional<uid_t> DelegatedTo(const std::string& cgroup_dir) {
  struct stat st;
  if (::stat(cgroup_dir.c_str(), &st) != 0 || st.st_uid == 0) return std::nullopt;
  return st.st_uid;
}

namespace {

// Mounted with memory_localevents, a cgroup's memory.events counts its own
// events only, and a parent's would never move.
bool LocalMemoryEvents() {
  auto mounts = ReadFile("/proc/self/mounts").value_or("");
  std::string_view text(mounts);
  while (!text.empty()) {
    std::string_view line = TakeLine(text);
    // DEVICE POINT TYPE OPTIONS ...
    size_t point = line.find(' ');
    if (point == std::string_view::npos) continue;
    size_t type = line.find(' ', point + 1);
    if (type == std::string_view::npos) continue;
    if (line.substr(point + 1, type - point - 1) != "/sys/fs/cgroup") continue;
    if (line.substr(type + 1, 8) != "cgroup2 ") continue;
    return line.find("memory_localevents") != std::string_view::npos;
  }
  return false;
}

}  // namespace

bool HierarchicalMemoryEvents() {
  static const bool local_events = LocalMemoryEvents();
  return !local_events;
}

std::optional<uint64_t> SubtreeOomKillCount(const std::string& cgroup_dir) {
  if (!HierarchicalMemoryEvents()) return std::nullopt;
  return OomKillCount(cgroup_dir);
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
  Pieces pieces = OnePiece(name) ? Pieces::kOne : Pieces::kAny;
  if (!fds_) {
    std::string path = std::string(dir_name_) + "/" + name;
    return ReadSmallFile(slice_fd_, path.c_str(), out, pieces);
  }
  int& fd = (*fds_)[file];
  if (fd < 0) {
    std::string path = std::string(dir_name_) + "/" + name;
    fd = ::openat(slice_fd_, path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
  }
  if (ReadFromStart(fd, out, pieces)) return true;
  ::close(fd);  // gone meanwhile; opened again if it comes back
  fd = -1;
  return false;
}

const struct stat& AgentCgroups::Entry::dir_stat() const {
  if (!stat_) {
    stat_.emplace();
    if (::fstatat(slice_fd_, dir_name_, &*stat_, AT_SYMLINK_NOFOLLOW) != 0) *stat_ = {};
  }
  return *stat_;
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
    ino_t inode = d->d_ino;
    if (d->d_type == DT_UNKNOWN) {  // a file system that does not say: ask
      struct stat st {};
      if (::fstatat(slice_fd, d->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode)) {
        continue;
      }
      inode = st.st_ino;
    }
    std::vector<int>* fds = nullptr;
    auto it = cached_.find(d->d_name);
    if (it == cached_.end() && cached_.size() < max_cached_) {
      it = cached_.try_emplace(d->d_name).first;
      it->second.fds.assign(files_.size(), -1);
      it->second.inode = inode;
    }
    if (it != cached_.end()) {
      Cached& cached = it->second;
      cached.generation = generation_;
      if (cached.inode != inode) {  // made anew under the same name
        CloseAll(cached);
        cached.inode = inode;
      }
      fds = &cached.fds;
    }
    visit(Entry(*this, slice_fd, d->d_name, inode, fds));
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
