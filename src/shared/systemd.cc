// The sdbus-c++ implementation of the Systemd interface. It follows
// systemd-run: one private connection, subscribed and matching JobRemoved
// before the job is created; the reply's job path is then awaited by
// dispatching queued and new messages until the job is removed or the
// deadline passes. Nothing here runs a thread; novad gives each of its
// threads a connection of its own.
#include "systemd.h"

#include <poll.h>
#include <sdbus-c++/sdbus-c++.h>
#include <time.h>

#include <algorithm>
#include <cctype>
#include <map>

#include "agent_name.h"
#include "errors.h"
#include "sdbus_compat.h"
#include "systemd_manager_proxy.h"

namespace nova {
namespace {

constexpr const char* kSystemdService = "org.freedesktop.systemd1";
constexpr const char* kSystemdPath = "/org/freedesktop/systemd1";
constexpr const char* kNoSuchUnit = "org.freedesktop.systemd1.NoSuchUnit";
constexpr const char* kUnitExists = "org.freedesktop.systemd1.UnitExists";

using DbusProperties = std::vector<sdbus::Struct<std::string, sdbus::Variant>>;
using ExecStartEntries =
    std::vector<sdbus::Struct<std::string, std::vector<std::string>, bool, uint64_t, uint64_t,
                              uint64_t, uint64_t, uint32_t, int32_t, int32_t>>;

sdbus::Variant ToVariant(const PropertyValue& value) {
  return std::visit(
      [](const auto& v) -> sdbus::Variant {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::vector<ExecCommand>>) {
          std::vector<sdbus::Struct<std::string, std::vector<std::string>, bool>> out;
          for (const auto& c : v) out.emplace_back(c.path, c.argv, c.ignore_failure);
          return sdbus::Variant(out);
        } else if constexpr (std::is_same_v<T, std::vector<CredentialFile>>) {
          std::vector<sdbus::Struct<std::string, std::string>> out;
          for (const auto& c : v) out.emplace_back(c.name, c.path);
          return sdbus::Variant(out);
        } else if constexpr (std::is_same_v<T, std::vector<MonotonicTimer>>) {
          std::vector<sdbus::Struct<std::string, uint64_t>> out;
          for (const auto& t : v) out.emplace_back(t.base, t.usec);
          return sdbus::Variant(out);
        } else if constexpr (std::is_same_v<T, std::vector<IpPrefix>>) {
          std::vector<sdbus::Struct<int32_t, std::vector<uint8_t>, uint32_t>> out;
          for (const auto& p : v) out.emplace_back(p.family, p.address, p.prefix_length);
          return sdbus::Variant(out);
        } else if constexpr (std::is_same_v<T, NameFilter>) {
          return sdbus::Variant(sdbus::Struct<bool, std::vector<std::string>>(v.allow, v.names));
        } else if constexpr (std::is_same_v<T, std::vector<BindPath>>) {
          std::vector<sdbus::Struct<std::string, std::string, bool, uint64_t>> out;
          for (const auto& b : v)
            out.emplace_back(b.source, b.destination, b.ignore_missing, b.flags);
          return sdbus::Variant(out);
        } else if constexpr (std::is_same_v<T, std::vector<TemporaryFileSystem>>) {
          std::vector<sdbus::Struct<std::string, std::string>> out;
          for (const auto& t : v) out.emplace_back(t.path, t.options);
          return sdbus::Variant(out);
        } else {
          return sdbus::Variant(v);
        }
      },
      value);
}

DbusProperties ToDbus(const UnitProperties& properties) {
  DbusProperties out;
  for (const auto& p : properties) out.emplace_back(p.name, ToVariant(p.value));
  return out;
}

template <typename T>
T Get(const std::map<std::string, sdbus::Variant>& props, const std::string& name, T fallback) {
  auto it = props.find(name);
  if (it == props.end() || !it->second.containsValueOfType<T>()) return fallback;
  return it->second.get<T>();
}

// The last NOVA_AGENT_SANDBOX= entry, as systemd applies the last one.
std::string SandboxFromEnvironment(const std::vector<std::string>& environment) {
  std::string profile = "none";
  constexpr std::string_view kPrefix = "NOVA_AGENT_SANDBOX=";
  for (const auto& entry : environment) {
    if (entry.starts_with(kPrefix)) profile = entry.substr(kPrefix.size());
  }
  return profile;
}

uint64_t NowUsec(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

Error Translate(const sdbus::Error& e, const std::string& what) {
  return Error(ErrorKindFromDbusName(e.getName()) == ErrorKind::kUnavailable
                   ? ErrorKind::kUnavailable
                   : ErrorKind::kFailed,
               what + ": " + e.getMessage() + " (" + e.getName() + ")");
}

class ManagerProxy final
    : public sdbus::ProxyInterfaces<org::freedesktop::systemd1::Manager_proxy> {
 public:
  explicit ManagerProxy(sdbus::IConnection& connection)
      : ProxyInterfaces(connection, sdbus_compat::ServiceName(kSystemdService),
                        sdbus_compat::ObjectPath(kSystemdPath)) {
    registerProxy();
  }
  ~ManagerProxy() { unregisterProxy(); }

  // The job being waited for, and its result once JobRemoved arrived.
  sdbus::ObjectPath awaited_job;
  std::optional<std::string> awaited_result;

 private:
  void onJobRemoved(const uint32_t&, const sdbus::ObjectPath& job, const std::string&,
                    const std::string& result) override {
    if (job == awaited_job) awaited_result = result;
  }
};

class SdbusSystemd final : public Systemd {
 public:
  SdbusSystemd() : connection_(sdbus::createSystemBusConnection()), manager_(*connection_) {
    manager_.Subscribe();
  }

  unsigned Version() override {
    if (version_ == 0) {
      std::string version = manager_.Version();
      version_ = static_cast<unsigned>(std::strtoul(version.c_str(), nullptr, 10));
    }
    return version_;
  }

  std::string StartTransientUnit(const std::string& unit, const UnitProperties& properties,
                                 const AuxUnits& aux, Usec deadline) override {
    std::vector<sdbus::Struct<std::string, DbusProperties>> dbus_aux;
    for (const auto& [name, props] : aux) dbus_aux.emplace_back(name, ToDbus(props));
    sdbus::ObjectPath job;
    try {
      job = manager_.StartTransientUnit(unit, "fail", ToDbus(properties), dbus_aux);
    } catch (const sdbus::Error& e) {
      if (e.getName() == kUnitExists) {
        throw Error(ErrorKind::kAlreadyRunning, unit + " already exists");
      }
      if (e.getName() == "org.freedesktop.DBus.Error.InvalidArgs" ||
          e.getName() == "org.freedesktop.DBus.Error.PropertyReadOnly") {
        throw Error(ErrorKind::kInvalidArgument, "systemd refused " + unit + ": " + e.getMessage());
      }
      throw Translate(e, "starting " + unit);
    }
    return WaitForJob(job, deadline);
  }

  std::string StopUnit(const std::string& unit, std::optional<Usec> deadline) override {
    sdbus::ObjectPath job;
    try {
      job = manager_.StopUnit(unit, "replace");
    } catch (const sdbus::Error& e) {
      if (e.getName() == kNoSuchUnit) return "done";
      throw Translate(e, "stopping " + unit);
    }
    return deadline ? WaitForJob(job, *deadline) : "queued";
  }

  void KillUnit(const std::string& unit, const std::string& whom, int signal) override {
    try {
      manager_.KillUnit(unit, whom, signal);
    } catch (const sdbus::Error& e) {
      if (e.getName() == kNoSuchUnit) return;  // already gone: nothing to kill
      throw Translate(e, "signalling " + unit);
    }
  }

  void AttachProcesses(const std::string& unit, const std::vector<uint32_t>& pids) override {
    try {
      manager_.AttachProcessesToUnit(unit, "", pids);
    } catch (const sdbus::Error& e) {
      if (e.getName() == kNoSuchUnit || e.getName() == "org.freedesktop.systemd1.NoUnitForPID") {
        throw Error(ErrorKind::kNotFound, unit + " is gone");
      }
      throw Translate(e, "attaching process(es) to " + unit);
    }
  }

  void ResetFailedUnit(const std::string& unit) override {
    try {
      manager_.ResetFailedUnit(unit);
    } catch (const sdbus::Error& e) {
      if (e.getName() != kNoSuchUnit && e.getName() != "org.freedesktop.systemd1.NotFailed") {
        throw Translate(e, "resetting " + unit);
      }
    }
  }

  std::optional<UnitState> GetUnitState(const std::string& unit) override {
    auto units = manager_.ListUnitsByPatterns({}, {unit});
    if (units.empty()) return std::nullopt;
    return UnitState{units.front().get<3>(), units.front().get<4>()};
  }

  uint32_t MainPid(const std::string& unit) override {
    try {
      auto proxy = sdbus::createProxy(*connection_, sdbus_compat::ServiceName(kSystemdService),
                                      sdbus_compat::ObjectPath(UnitObjectPath(unit)));
      return proxy->getProperty("MainPID")
          .onInterface("org.freedesktop.systemd1.Service")
          .get<uint32_t>();
    } catch (const sdbus::Error&) {
      return 0;  // gone meanwhile
    }
  }

  std::optional<AgentUnitInfo> GetAgent(const std::string& name) override {
    auto units = manager_.ListUnitsByPatterns({}, {AgentUnit(name)});
    if (units.empty()) return std::nullopt;
    return Describe(name, units.front().get<6>());
  }

  std::map<std::string, UnitState> AgentStates() override {
    std::map<std::string, UnitState> states;
    for (const auto& u : manager_.ListUnitsByPatterns({}, {"nova-agent-*.service"})) {
      if (auto name = AgentNameFromUnit(u.get<0>())) {
        states[*name] = UnitState{u.get<3>(), u.get<4>()};
      }
    }
    return states;
  }

  void DrainMessages() override {
    while (sdbus_compat::ProcessPending(*connection_)) {
    }
  }

  std::vector<AgentUnitInfo> ListAgents() override {
    std::vector<AgentUnitInfo> agents;
    for (const auto& u : manager_.ListUnitsByPatterns({}, {"nova-agent-*.service"})) {
      auto name = AgentNameFromUnit(u.get<0>());
      if (!name) continue;
      try {
        agents.push_back(Describe(*name, u.get<6>()));
      } catch (const sdbus::Error&) {
        // The unit went away between listing and reading: it is no longer live.
      }
    }
    std::sort(agents.begin(), agents.end(),
              [](const auto& a, const auto& b) { return a.name < b.name; });
    return agents;
  }

 private:
  std::map<std::string, sdbus::Variant> GetAll(const std::string& path,
                                               const std::string& interface) {
    auto proxy = sdbus::createProxy(*connection_, sdbus_compat::ServiceName(kSystemdService),
                                    sdbus_compat::ObjectPath(path));
    std::map<std::string, sdbus::Variant> props;
    proxy->callMethod("GetAll")
        .onInterface("org.freedesktop.DBus.Properties")
        .withArguments(interface)
        .storeResultsTo(props);
    return props;
  }

  AgentUnitInfo Describe(const std::string& name, const sdbus::ObjectPath& path) {
    auto unit = GetAll(path, "org.freedesktop.systemd1.Unit");
    auto service = GetAll(path, "org.freedesktop.systemd1.Service");
    AgentUnitInfo info;
    info.name = name;
    info.unit = AgentUnit(name);
    info.active_state = Get<std::string>(unit, "ActiveState", "");
    info.sub_state = Get<std::string>(unit, "SubState", "");
    info.active_enter_usec = Get<uint64_t>(unit, "ActiveEnterTimestamp", 0);
    info.main_pid = Get<uint32_t>(service, "MainPID", 0);
    info.memory_current = Get<uint64_t>(service, "MemoryCurrent", kInfinity);
    info.memory_max = Get<uint64_t>(service, "MemoryMax", kInfinity);
    info.tasks_current = Get<uint64_t>(service, "TasksCurrent", kInfinity);
    info.tasks_max = Get<uint64_t>(service, "TasksMax", kInfinity);
    info.cpu_usage_nsec = Get<uint64_t>(service, "CPUUsageNSec", kInfinity);
    info.runtime_max_usec = Get<uint64_t>(service, "RuntimeMaxUSec", kInfinity);
    info.user = Get<std::string>(service, "User", "");
    info.workdir = Get<std::string>(service, "WorkingDirectory", "");
    info.control_group = Get<std::string>(service, "ControlGroup", "");
    info.sandbox = SandboxFromEnvironment(
        Get<std::vector<std::string>>(service, "Environment", std::vector<std::string>{}));
    auto exec = Get<ExecStartEntries>(service, "ExecStart", {});
    if (!exec.empty()) info.argv = exec.front().get<1>();
    info.soft_deadline_usec = SoftDeadline(name);
    return info;
  }

  std::optional<uint64_t> SoftDeadline(const std::string& name) {
    auto timers = manager_.ListUnitsByPatterns({"active"}, {SoftTimerUnit(name)});
    if (timers.empty()) return std::nullopt;
    auto timer = GetAll(timers.front().get<6>(), "org.freedesktop.systemd1.Timer");
    uint64_t next = Get<uint64_t>(timer, "NextElapseUSecMonotonic", kInfinity);
    if (next == kInfinity || next == 0) return std::nullopt;
    uint64_t now_mono = NowUsec(CLOCK_MONOTONIC);
    uint64_t now_real = NowUsec(CLOCK_REALTIME);
    return next >= now_mono ? now_real + (next - now_mono) : now_real;
  }

  std::string WaitForJob(const sdbus::ObjectPath& job, Usec deadline) {
    manager_.awaited_job = job;
    manager_.awaited_result.reset();
    uint64_t end = NowUsec(CLOCK_MONOTONIC) + deadline.count();
    for (;;) {
      while (sdbus_compat::ProcessPending(*connection_)) {
        if (manager_.awaited_result) break;
      }
      if (manager_.awaited_result) {
        manager_.awaited_job = {};
        return *manager_.awaited_result;
      }
      uint64_t now = NowUsec(CLOCK_MONOTONIC);
      if (now >= end) {
        manager_.awaited_job = {};
        return kJobDeadlinePassed;
      }
      auto poll_data = connection_->getEventLoopPollData();
      int timeout_ms = static_cast<int>((end - now + 999) / 1000);
      int bus_timeout = poll_data.getPollTimeout();
      if (bus_timeout >= 0 && bus_timeout < timeout_ms) timeout_ms = bus_timeout;
      auto fds = sdbus_compat::PollFds(poll_data);
      ::poll(fds.data(), fds.size(), timeout_ms);
    }
  }

  std::unique_ptr<sdbus::IConnection> connection_;
  ManagerProxy manager_;
  unsigned version_ = 0;
};

}  // namespace

std::string UnitObjectPath(const std::string& unit) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string path = "/org/freedesktop/systemd1/unit/";
  for (unsigned char c : unit) {
    if (std::isalnum(c)) {
      path += static_cast<char>(c);
    } else {
      path += '_';
      path += kHex[c >> 4];
      path += kHex[c & 15];
    }
  }
  return path;
}

std::unique_ptr<Systemd> ConnectSystemd() {
  try {
    return std::make_unique<SdbusSystemd>();
  } catch (const sdbus::Error& e) {
    throw Error(ErrorKind::kUnavailable, "cannot reach systemd on the system bus: " +
                                             e.getMessage() + " (Nova needs systemd as PID 1)");
  }
}

}  // namespace nova
