#include "watch_host.h"

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "agent_cgroups.h"
#include "build_config.h"
#include "duration.h"
#include "errors.h"
#include "files.h"
#include "size.h"
#include "thread_name.h"
#include "watch_events.h"

namespace nova {
namespace fs = std::filesystem;

namespace {

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_process_mrelease
#define SYS_process_mrelease 448
#endif

}  // namespace

// A pidfd for each process in CGROUP and the cgroups below it (agents are
// delegated their subtree), taken before the kill. Bounded both ways, as it
// runs on the real-time watcher: an agent may make thousands of empty cgroups
// before it runs away, and cgroup.kill kills them all anyway.
std::vector<int> OpenPidfds(const std::string& cgroup, size_t max_processes, size_t max_cgroups) {
  std::vector<int> pidfds;
  size_t cgroups = 0;
  auto add_procs = [&](const fs::path& dir) {
    ++cgroups;
    std::ifstream procs(dir / "cgroup.procs");
    long pid = 0;
    while (pidfds.size() < max_processes && procs >> pid) {
      int fd = static_cast<int>(::syscall(SYS_pidfd_open, static_cast<pid_t>(pid), 0));
      if (fd >= 0) pidfds.push_back(fd);
    }
  };
  add_procs(cgroup);
  std::error_code ec;
  for (fs::recursive_directory_iterator it(cgroup, ec), end; !ec && it != end; it.increment(ec)) {
    if (pidfds.size() >= max_processes || cgroups >= max_cgroups) break;
    if (it->is_directory(ec)) add_procs(it->path());
  }
  return pidfds;
}

namespace {

// process_mrelease(2) (Linux 5.15) frees a dying process's memory at once,
// as the kernel's OOM reaper does, instead of when each killed task gets
// CPU to unmap it. It acts only on a process already dying: a pidfd whose
// pid was reused by another process before it was opened gets EINVAL, and
// one whose process is gone gets ESRCH; neither is worth a word. Done on a
// thread of its own, so the watcher goes on watching meanwhile.
void ReleaseMemoryInBackground(std::vector<int> pidfds) {
  if (pidfds.empty()) return;
  std::thread([pidfds = std::move(pidfds)] {
    NameThisThread("reaper");
    // Made by the real-time watcher, it would be real-time too: freeing a
    // victim's gigabytes is long work, done at normal priority as the
    // kernel's own OOM reaper does it.
    sched_param normal{};
    pthread_setschedparam(pthread_self(), SCHED_OTHER, &normal);
    for (int fd : pidfds) {
      ::syscall(SYS_process_mrelease, fd, 0);
      ::close(fd);
    }
  }).detach();
}

}  // namespace

LinuxWatchHost::LinuxWatchHost(Systemd& systemd, const OutcomeStore& outcomes,
                               std::string agents_cgroup)
    : systemd_(systemd),
      outcomes_(outcomes),
      agents_cgroup_(agents_cgroup),
      oom_(agents_cgroup, std::string(kRuntimeDir) + "/" + kOomKillsFile) {}

LinuxOomSource::LinuxOomSource(std::string agents_cgroup, std::string state_file)
    : agents_cgroup_(std::move(agents_cgroup)), state_file_(std::move(state_file)) {}

LinuxOomSource::~LinuxOomSource() {
  if (kmsg_ >= 0) ::close(kmsg_);
}

std::vector<AgentOomCount> LinuxOomSource::ReadOomCounts() {
  // memory.events counts the whole subtree's events, so the slice's own
  // oom_kill moves whenever any agent's does: one read a second while no
  // agent has an OOM kill, instead of one per agent (300 agents, 300 reads).
  // It never goes down (an agent's removal takes nothing back from it).
  auto slice_total = SubtreeOomKillCount(agents_cgroup_);
  if (slice_total && last_slice_total_ == slice_total) return last_counts_;
  last_slice_total_ = slice_total;
  std::vector<AgentOomCount> counts;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(agents_cgroup_, ec)) {
    auto name = AgentNameFromUnit(entry.path().filename().string());
    if (!name) continue;
    auto id = CgroupId(entry.path().string());
    auto count = OomKillCount(entry.path().string());
    if (!id || !count) continue;  // gone meanwhile
    counts.push_back({*name, *id, *count});
  }
  last_counts_ = counts;
  return counts;
}

std::vector<std::string> LinuxOomSource::ReadKernelLog() {
  std::vector<std::string> messages;
  if (!kmsg_tried_) {
    kmsg_tried_ = true;
    kmsg_ = ::open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (kmsg_ < 0) {
      spdlog::warn(
          "cannot read /dev/kmsg ({}); OOM kills in agents are reported without the process",
          std::strerror(errno));
      return messages;
    }
    ::lseek(kmsg_, 0, SEEK_END);
  }
  if (kmsg_ < 0) return messages;
  // One record per read: "PRIORITY,SEQ,USEC,FLAGS;MESSAGE\n" and dictionary lines.
  char record[8192];
  for (int i = 0; i < 100000; ++i) {
    ssize_t n = ::read(kmsg_, record, sizeof record - 1);
    if (n < 0 && errno == EPIPE) continue;  // overwritten before we read it
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // EAGAIN: nothing more
    std::string_view text(record, static_cast<size_t>(n));
    size_t semicolon = text.find(';');
    if (semicolon == std::string_view::npos) continue;
    text.remove_prefix(semicolon + 1);
    size_t end = text.find('\n');
    messages.emplace_back(text.substr(0, end));
  }
  return messages;
}

std::optional<OomKillsByAgent> LinuxOomSource::LoadOomKills() { return ReadOomKills(state_file_); }

void LinuxOomSource::SaveOomKills(const OomKillsByAgent& kills) {
  try {
    WriteOomKills(state_file_, kills);
    save_failed_ = false;
  } catch (const Error& e) {
    if (!save_failed_) {
      spdlog::warn("{}; novactl status cannot show OOM kills", e.what());
    }
    save_failed_ = true;
  }
}

int64_t LinuxOomSource::RealtimeUsec() { return nova::RealtimeUsec(); }

std::string LinuxWatchHost::CgroupOf(const std::string& agent) const {
  return agents_cgroup_ + "/" + AgentUnit(agent);
}

HostMemory LinuxWatchHost::ReadMemory() { return meminfo_.Read(); }

std::vector<AgentMemory> LinuxWatchHost::ReadAgents() { return ReadAgentMemory(agents_cgroup_); }

void LinuxWatchHost::KillAgent(const std::string& agent, const KillMarker& marker) {
  outcomes_.KillMarked(agent, marker, [&] {
    std::string cgroup = CgroupOf(agent);
    std::vector<int> pidfds = OpenPidfds(cgroup, kMaxReapedProcesses, kMaxReapedCgroups);
    std::ofstream kill(cgroup + "/cgroup.kill");
    if (kill) {
      kill << "1" << std::flush;
      if (kill) {
        ReleaseMemoryInBackground(std::move(pidfds));
        return;
      }
      for (int fd : pidfds) ::close(fd);
      throw Error(ErrorKind::kFailed, cgroup + "/cgroup.kill: " + std::strerror(errno));
    }
    for (int fd : pidfds) ::close(fd);
    std::error_code ec;
    if (!fs::exists(cgroup, ec)) return;  // already gone
    systemd_.KillUnit(AgentUnit(agent), "all", SIGKILL);
  });
}

std::optional<uint64_t> LinuxWatchHost::AgentAnonMemory(const std::string& agent) {
  std::ifstream in(CgroupOf(agent) + "/memory.stat");
  if (!in) return std::nullopt;
  std::string key;
  uint64_t value = 0;
  while (in >> key >> value) {
    if (key == "anon") return value;
  }
  return std::nullopt;
}

std::chrono::steady_clock::time_point LinuxWatchHost::Now() {
  return std::chrono::steady_clock::now();
}

void LinuxWatchHost::Sleep(std::chrono::milliseconds duration) {
  std::this_thread::sleep_for(duration);
}

void LinuxWatchHost::Emit(const WatchEvent& event) { JournalWatchEvent(event); }

}  // namespace nova
