#include "host_setup.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "admission.h"
#include "duration.h"
#include "errors.h"
#include "files.h"
#include "size.h"
#include "table.h"
#include "text.h"

namespace nova {
namespace fs = std::filesystem;
namespace {

constexpr long kCgroup2Magic = 0x63677270;

std::string ReadText(const std::string& path) { return ReadFile(path).value_or(""); }

std::set<std::string> Words(const std::string& text) {
  std::istringstream in(text);
  std::set<std::string> words;
  for (std::string w; in >> w;) words.insert(w);
  return words;
}

std::string SysctlPath(const std::string& key) {
  std::string path = "/proc/sys/" + key;
  for (size_t i = 10; i < path.size(); ++i) {
    if (path[i] == '.') path[i] = '/';
  }
  return path;
}

std::string Octal(uint32_t mode) {
  char text[16];
  std::snprintf(text, sizeof text, "%o", mode);
  return text;
}

std::string Owner(uid_t uid, gid_t gid) {
  const passwd* user = getpwuid(uid);
  const group* grp = getgrgid(gid);
  return (user ? std::string(user->pw_name) : std::to_string(uid)) + ":" +
         (grp ? std::string(grp->gr_name) : std::to_string(gid));
}

// The group is its owner's own (user-private: the user's primary group, of the
// same name, with nobody else in it), so group write lets no one else in.
bool PrivateGroup(uid_t uid, gid_t gid) {
  const passwd* user = getpwuid(uid);
  if (!user || user->pw_gid != gid) return false;
  std::string name = user->pw_name;
  const group* grp = getgrgid(gid);
  return grp && name == grp->gr_name && (!grp->gr_mem || !grp->gr_mem[0]);
}

// Writable by someone other than its owner: every member of the pool's group
// (nova) can reach it, so world write is for them, and group write is for
// anyone in a group that is not the owner's own.
bool SharedSlot(const struct stat& st) {
  return (st.st_mode & S_IWOTH) || ((st.st_mode & S_IWGRP) && !PrivateGroup(st.st_uid, st.st_gid));
}

PoolFacts ReadPool(const std::string& path) {
  PoolFacts pool;
  struct stat st {};
  if (lstat(path.c_str(), &st) != 0) return pool;
  pool.present = true;
  pool.folder = S_ISDIR(st.st_mode);
  pool.uid = st.st_uid;
  pool.gid = st.st_gid;
  pool.mode = st.st_mode & 07777;
  pool.owner = Owner(st.st_uid, st.st_gid);
  if (!pool.folder) return pool;
  std::error_code ec;
  fs::directory_iterator entries(path, ec);
  if (ec) return pool;
  pool.listed = true;
  for (const auto& entry : entries) {
    struct stat slot {};
    // lstat: a symlink is no slot, and is never followed.
    if (lstat(entry.path().c_str(), &slot) != 0 || !S_ISDIR(slot.st_mode)) continue;
    ++pool.slots;
    if (SharedSlot(slot)) pool.shared_slots.push_back(entry.path().filename().string());
  }
  std::sort(pool.shared_slots.begin(), pool.shared_slots.end());
  return pool;
}

bool PoolIsRight(const PoolFacts& pool, std::optional<uint32_t> nova_gid) {
  return pool.folder && pool.uid == 0 && nova_gid && pool.gid == *nova_gid &&
         pool.mode == kPoolMode;
}

// A folder opened without following a symlink in its last component (-1 if
// it is not one), so that what is changed through it is what was checked:
// members own their slots and may swap one for a symlink at any time, while
// the folders above are root's.
int OpenFolder(const std::string& path) {
  return open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

// Slot names are the members' choice: shown escaped, the first few only.
std::string SlotList(const std::vector<std::string>& names) {
  std::string list;
  for (size_t i = 0; i < names.size() && i < 3; ++i) {
    list += (i ? ", " : "") + Printable(names[i]);
  }
  return names.size() > 3 ? list + ", ..." : list;
}

void WriteFile(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream out(path, std::ios::trunc);
  out << text;
  if (!out.flush()) throw Error(ErrorKind::kFailed, "cannot write " + path);
}

void Run(const std::string& command) {
  if (std::system(command.c_str()) != 0) {
    throw Error(ErrorKind::kFailed, "\"" + command + "\" failed");
  }
}

// A size no more than `bytes`, for advice to lower something "to at most"
// it: FormatSize rounds to the nearest, which may be above.

}  // namespace

Check PoolCheck(const HostFacts& f) {
  const PoolFacts& p = f.pool;
  const std::string fix = "novactl setup-host --workspaces";
  if (!p.present) return {"workspace pool", Check::kWarn, "not set up", fix};
  if (!p.folder) {
    return {"workspace pool", Check::kWarn, "not a folder", "move it away, then run " + fix};
  }
  std::string detail = p.owner + " " + Octal(p.mode);
  bool right = PoolIsRight(p, f.nova_gid);
  if (!right) detail += ", not root:nova " + Octal(kPoolMode);
  if (!p.shared_slots.empty()) {
    detail += "; " + std::to_string(p.shared_slots.size()) + " slot(s) other members may write (" +
              SlotList(p.shared_slots) + ")";
  }
  if (right && p.shared_slots.empty()) {
    detail += p.listed ? ", " + std::to_string(p.slots) + " slot(s), each writable by its maker"
                       : "; each member makes their own slots";
    return {"workspace pool", Check::kOk, detail, ""};
  }
  return {"workspace pool", Check::kWarn, detail, fix};
}

std::string MountUnitName(const std::string& path) {
  std::string name;
  std::string trimmed = path;
  while (trimmed.size() > 1 && trimmed.back() == '/') trimmed.pop_back();
  for (size_t i = 1; i < trimmed.size(); ++i) {
    unsigned char c = trimmed[i];
    if (c == '/') {
      name += '-';
    } else if (std::isalnum(c) || c == '_' || (c == '.' && i > 1)) {
      name += static_cast<char>(c);
    } else {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      name += hex;
    }
  }
  return name + ".mount";
}

HostFacts ReadHostFacts(const SetupPaths& paths) {
  HostFacts f;
  struct statfs sfs {};
  f.cgroup2 = statfs("/sys/fs/cgroup", &sfs) == 0 && sfs.f_type == kCgroup2Magic;
  f.controllers = Words(ReadText("/sys/fs/cgroup/cgroup.controllers"));
  f.subtree_controllers = Words(ReadText("/sys/fs/cgroup/cgroup.subtree_control"));
  f.memory_pressure = access("/proc/pressure/memory", R_OK) == 0;
  f.cgroup_kill = access("/sys/fs/cgroup/system.slice/cgroup.kill", F_OK) == 0;
  f.swap_total = ReadHostMemory().swap_total;
  for (const auto& [key, target] : kSysctlTargets) {
    std::string value = ReadText(SysctlPath(key));
    if (!value.empty()) f.sysctls[key] = std::strtoull(value.c_str(), nullptr, 10);
  }
  std::istringstream mounts(ReadText("/proc/self/mounts"));
  for (std::string line; std::getline(mounts, line);) {
    std::istringstream fields(line);
    std::string device, point, type;
    fields >> device >> point >> type;
    if (point == paths.scratch() && type == "tmpfs") {
      f.scratch_mounted = true;
      struct statvfs vfs {};
      if (statvfs(point.c_str(), &vfs) == 0) f.scratch_size = vfs.f_blocks * vfs.f_frsize;
    }
  }
  if (const group* g = getgrnam("nova")) f.nova_gid = g->gr_gid;
  f.pool = ReadPool(paths.pool());
  return f;
}

Check CgroupCheck(const HostFacts& f) {
  return {
      "cgroup v2", f.cgroup2 ? Check::kOk : Check::kFail,
      f.cgroup2 ? "unified hierarchy at /sys/fs/cgroup" : "/sys/fs/cgroup is not cgroup2",
      f.cgroup2 ? "" : "boot with systemd.unified_cgroup_hierarchy=1 on the kernel command line"};
}

std::vector<Check> ControllerChecks(const HostFacts& f) {
  std::vector<Check> checks;
  for (const char* controller : {"memory", "pids"}) {
    bool ok = f.controllers.count(controller) && f.subtree_controllers.count(controller);
    checks.push_back({std::string(controller) + " controller", ok ? Check::kOk : Check::kFail,
                      ok ? "available and delegated" : "not enabled for child cgroups",
                      ok ? ""
                         : std::string("enable the kernel's ") + controller +
                               " cgroup controller (cgroup_enable=" + controller + ")"});
  }
  return checks;
}

Check SwapCheck(const HostFacts& f) {
  return {"swap", Check::kOk,
          f.swap_total == 0 ? "none on the host: agents and everything else fail fast, never thrash"
                            : FormatSize(f.swap_total) +
                                  " on the host: agents get none (MemorySwapMax=0) and are "
                                  "OOM-killed at their limit; other processes may still swap",
          ""};
}

std::vector<Check> SysctlChecks(const HostFacts& f) {
  std::vector<Check> checks;
  for (const auto& [key, target] : kSysctlTargets) {
    auto it = f.sysctls.find(key);
    uint64_t current = it == f.sysctls.end() ? 0 : it->second;
    bool ok = current >= target;
    checks.push_back({key, ok ? Check::kOk : Check::kWarn,
                      std::to_string(current) + (ok ? "" : ", below " + std::to_string(target)),
                      ok ? "" : "novactl setup-host --sysctl"});
  }
  return checks;
}

Check ScratchCheck(const HostFacts& f) {
  return {"scratch tmpfs", f.scratch_mounted ? Check::kOk : Check::kWarn,
          f.scratch_mounted ? "mounted, " + FormatSize(f.scratch_size) : "not mounted",
          f.scratch_mounted ? "" : "novactl setup-host --scratch"};
}

Check NovaGroupCheck(const HostFacts& f) {
  return {"nova group", f.nova_gid ? Check::kOk : Check::kFail,
          f.nova_gid ? "gid " + std::to_string(*f.nova_gid) : "missing",
          f.nova_gid ? "" : "install the nova package, or run systemd-sysusers"};
}

std::vector<Check> HostChecks(const HostFacts& f, const SetupOptions& /*options*/) {
  std::vector<Check> checks = {CgroupCheck(f)};
  for (auto& c : ControllerChecks(f)) checks.push_back(c);
  checks.push_back(SwapCheck(f));
  for (auto& c : SysctlChecks(f)) checks.push_back(c);
  checks.push_back(ScratchCheck(f));
  checks.push_back(PoolCheck(f));
  checks.push_back(NovaGroupCheck(f));
  return checks;
}

std::vector<Step> PlanSetup(const HostFacts& f, const SetupOptions& o, const SetupPaths& paths) {
  std::vector<Step> steps;
  if (o.sysctl) {
    std::string file =
        "# Written by novactl setup-host: limits for many agents' processes, and ptrace only\n"
        "# by ancestors.\n";
    std::vector<std::pair<std::string, uint64_t>> raise;
    for (const auto& [key, target] : kSysctlTargets) {
      auto it = f.sysctls.find(key);
      if (it == f.sysctls.end() || it->second < target) raise.emplace_back(key, target);
    }
    if (!raise.empty()) {
      std::string list;
      for (const auto& [key, value] : raise) {
        file += key + " = " + std::to_string(value) + "\n";
        list += (list.empty() ? "" : ", ") + key + "=" + std::to_string(value);
      }
      steps.push_back({"raise " + list + " in " + paths.sysctl_file + " and apply it",
                       [file, raise, path = paths.sysctl_file] {
                         WriteFile(path, file);
                         for (const auto& [key, value] : raise) {
                           WriteFile(SysctlPath(key), std::to_string(value) + "\n");
                         }
                       }});
    }
  }
  if (o.scratch && !f.scratch_mounted) {
    std::string unit = MountUnitName(paths.scratch());
    std::string text =
        "# Written by novactl setup-host: scratch space for agents, in memory.\n"
        "[Unit]\nDescription=Nova agents' scratch space\n\n"
        "[Mount]\nWhat=tmpfs\nWhere=" +
        paths.scratch() +
        "\nType=tmpfs\n"
        "Options=mode=1777,nosuid,nodev,size=" +
        o.scratch_size +
        "\n\n"
        "[Install]\nWantedBy=local-fs.target\n";
    steps.push_back({"mount a tmpfs (size=" + o.scratch_size + ", mode 1777) at " +
                         paths.scratch() + " with /etc/systemd/system/" + unit,
                     [unit, text] {
                       WriteFile("/etc/systemd/system/" + unit, text);
                       Run("systemctl daemon-reload");
                       Run("systemctl enable --now --quiet '" + unit + "'");
                     }});
  }
  if (o.workspaces && !PoolIsRight(f.pool, f.nova_gid)) {
    steps.push_back(
        {"make " + paths.pool() +
             " root:nova, mode 1770: members of group nova make their own slots there, which "
             "no other member may write in, rename or remove",
         [gid = f.nova_gid, root = paths.agents_root, pool = paths.pool()] {
           if (!gid) {
             throw Error(ErrorKind::kFailed,
                         "the nova group does not exist; install the package or run "
                         "systemd-sysusers");
           }
           for (const std::string& dir : {root, pool}) {
             // 0700 until it is root:nova, so that no member gets in before.
             if (mkdir(dir.c_str(), dir == pool ? 0700 : 0755) != 0 && errno != EEXIST) {
               throw Error(ErrorKind::kFailed,
                           "cannot create " + dir + ": " + std::strerror(errno));
             }
           }
           int fd = OpenFolder(pool);
           if (fd < 0) {
             std::string why = std::strerror(errno);
             throw Error(ErrorKind::kFailed,
                         pool + " is not a folder (" + why +
                             "); move it away, then run novactl setup-host --workspaces");
           }
           bool done = fchown(fd, 0, *gid) == 0 && fchmod(fd, kPoolMode) == 0;
           close(fd);
           if (!done) throw Error(ErrorKind::kFailed, "cannot set owner and mode of " + pool);
         }});
  }
  if (o.workspaces && !f.pool.shared_slots.empty()) {
    steps.push_back({"take write permission for group and others from " +
                         std::to_string(f.pool.shared_slots.size()) + " slot(s) in " +
                         paths.pool() + " that other members could write (" +
                         SlotList(f.pool.shared_slots) + "); what is in them stays",
                     [slots = f.pool.shared_slots, pool = paths.pool()] {
                       for (const std::string& slot : slots) {
                         int fd = OpenFolder(pool + "/" + slot);
                         if (fd < 0) continue;  // gone, or no folder any more: nothing to take away
                         struct stat st {};
                         bool done = fstat(fd, &st) == 0 &&
                                     fchmod(fd, st.st_mode & 07777 & ~(S_IWGRP | S_IWOTH)) == 0;
                         close(fd);
                         if (!done) {
                           throw Error(ErrorKind::kFailed,
                                       "cannot change the mode of " + pool + "/" + Printable(slot));
                         }
                       }
                     }});
  }
  return steps;
}

std::string FormatChecks(const std::vector<Check>& checks) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& c : checks) {
    const char* mark = c.status == Check::kOk ? "ok" : c.status == Check::kWarn ? "warn" : "FAIL";
    rows.push_back({mark, c.name, c.detail + (c.fix.empty() ? "" : "; fix: " + c.fix)});
  }
  return RenderTable({"", "CHECK", "STATE"}, rows);
}

nlohmann::json ChecksToJson(const std::vector<Check>& checks) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& c : checks) {
    out.push_back({{"check", c.name},
                   {"status", c.status == Check::kOk     ? "ok"
                              : c.status == Check::kWarn ? "warn"
                                                         : "fail"},
                   {"detail", c.detail},
                   {"fix", c.fix.empty() ? nlohmann::json(nullptr) : nlohmann::json(c.fix)}});
  }
  return out;
}

}  // namespace nova
