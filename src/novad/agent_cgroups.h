// The agents' cgroups, walked again and again: the priority sweep every 2 s
// and the metrics writer every MetricsInterval each read a few files in
// every agent's cgroup. With hundreds of agents, opening each file at each pass is most
// of what novad costs an idle host, so the files stay open from one pass to
// the next and are read again from offset 0 (cgroupfs makes their contents
// anew at each read from the start): one pread per file per pass. An agent
// spawned again under the same name has a new cgroup (another inode) and is
// opened anew; an agent gone is closed; the slice, removed by systemd with
// its last agent, is opened again when it comes back.
#pragma once

#include <dirent.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "agent_name.h"

namespace nova {

// The value of KEY in a flat-keyed cgroup file ("oom_kill 2" lines of
// memory.events, "usage_usec 123" of cpu.stat); nullopt when absent.
std::optional<uint64_t> FlatKeyedValue(std::string_view text, std::string_view key);

// The oom_kill count of a cgroup's memory.events; nullopt if unreadable.
std::optional<uint64_t> OomKillCount(const std::string& cgroup_dir);
// A cgroup file of one number, or "max" (nullopt inside the optional);
// nullopt when it is neither.
std::optional<std::optional<uint64_t>> CgroupLimit(std::string_view text);
// A cgroup's memory.max (what systemd made of MemoryMax=): UINT64_MAX for
// "max", nullopt if unreadable (the cgroup is gone, or not made yet).
std::optional<uint64_t> MemoryMaxOf(const std::string& cgroup_dir);
// The user a delegated cgroup was handed to: systemd makes it as root and
// chowns it to the unit's User= as the unit's first process starts; only
// root can chown it after. nullopt while it is still root's (not handed over
// yet, or User=root) and when it cannot be read (not made yet, or gone).
std::optional<uid_t> DelegatedTo(const std::string& cgroup_dir);
// Whether a cgroup's memory.events counts its descendants' events too (so
// the agents slice's oom_kill moves whenever an agent's does): true unless
// cgroup2 is mounted with memory_localevents.
bool HierarchicalMemoryEvents();
// OomKillCount of a parent, or nullopt when its count does not include its
// children's (each child must be read).
std::optional<uint64_t> SubtreeOomKillCount(const std::string& cgroup_dir);

class AgentCgroups {
 public:
  // FILES: the names read in each agent's cgroup (e.g. "memory.current").
  // Beyond MAX_CACHED agents, the others' files are opened at each pass:
  // novad's descriptors are for its bus connections first.
  explicit AgentCgroups(std::vector<std::string> files, std::string slice = kAgentsCgroup,
                        size_t max_cached = kMaxCachedAgents);
  ~AgentCgroups();
  AgentCgroups(const AgentCgroups&) = delete;
  AgentCgroups& operator=(const AgentCgroups&) = delete;

  static constexpr size_t kMaxCachedAgents = 512;

  // One agent's cgroup during a pass.
  class Entry {
   public:
    const char* dir_name() const { return dir_name_; }  // e.g. nova-agent-NAME.service
    // The directory's inode, from the listing: another one under the same
    // name is another cgroup (an agent spawned again).
    ino_t inode() const { return inode_; }
    // Its stat (owner, link count), asked only when wanted: the listing
    // alone costs no system call per agent. st_nlink is 0 when it is gone.
    const struct stat& dir_stat() const;
    // File FILE (an index into the constructor's FILES), read whole; false
    // when it cannot be read (the agent is gone meanwhile, or no such file).
    bool Read(size_t file, std::string& out) const;
    // The cgroup's directory, opened for walking below it (to be closed by
    // the caller); -1 when gone.
    int OpenDirectory() const;

   private:
    friend class AgentCgroups;
    Entry(AgentCgroups& owner, int slice_fd, const char* dir_name, ino_t inode,
          std::vector<int>* fds)
        : owner_(owner), slice_fd_(slice_fd), dir_name_(dir_name), inode_(inode), fds_(fds) {}
    AgentCgroups& owner_;
    int slice_fd_;
    const char* dir_name_;
    ino_t inode_;
    mutable std::optional<struct stat> stat_;
    std::vector<int>* fds_;  // this agent's open files, or nullptr beyond the cache
  };

  // Calls VISIT for each directory under the slice. False (and nothing
  // visited) when the slice is not there.
  bool ForEach(const std::function<void(const Entry&)>& visit);

  const std::string& slice() const { return slice_path_; }
  size_t cached() const { return cached_.size(); }  // for tests

 private:
  struct Cached {
    ino_t inode = 0;
    std::vector<int> fds;     // one per file, -1 when not open
    uint64_t generation = 0;  // the last pass that saw it
  };
  void CloseAll(Cached& cached);
  void Forget();

  std::vector<std::string> files_;
  std::string slice_path_;
  size_t max_cached_;
  DIR* slice_ = nullptr;
  ino_t slice_inode_ = 0;
  std::unordered_map<std::string, Cached> cached_;  // by directory name
  uint64_t generation_ = 0;
};

}  // namespace nova
