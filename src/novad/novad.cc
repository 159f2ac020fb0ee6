// novad: owns org.nova.Nova1 on the system bus and runs Nova's policy. Agents
// live in systemd and outcomes in files, so a restart or an upgrade of novad
// loses no agent and touches none; only the admission gate's hysteresis state
// is in memory, and it starts open.
//
// Three kinds of thread, each with its own bus connection, so that none waits
// for another: the memory watcher (admission and relief: nothing but memory
// may delay a look at memory, and only it pings systemd's watchdog), the bus
// thread (serves org.nova.Nova1: reads credentials, decodes, queues, replies;
// and the priority sweep), and a bounded pool of workers that run spawns,
// kills and attaches, each on its own systemd connection (a spawn may wait a
// whole StartTimeout for its job).
#include <malloc.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <sdbus-c++/sdbus-c++.h>
#include <signal.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <iostream>
#include <optional>
#include <thread>
#include <vector>

#include "admission.h"
#include "agent_manager.h"
#include "build_config.h"
#include "call_dispatch.h"
#include "config.h"
#include "errors.h"
#include "meminfo.h"
#include "memory_watch.h"
#include "metrics.h"
#include "nova_service.h"
#include "outcome.h"
#include "priority_policy.h"
#include "priority_sweep.h"
#include "psi.h"
#include "sdbus_compat.h"
#include "size.h"
#include "systemd.h"
#include "thread_name.h"
#include "watch_host.h"
#include "watchdog.h"

namespace {

using Clock = std::chrono::steady_clock;

// The PSI window the PressureStall threshold is measured in.
constexpr std::chrono::seconds kPressureWindow(1);

// Workers for spawns, kills and attaches, and what may wait for them. A
// caller other than root holds at most half the workers, so a member's
// spawns that hang on their workdir cannot take them all.
constexpr int kWorkers = 8;
constexpr nova::WorkQueueLimits kQueueLimits{64, 4};

int MillisecondsUntil(Clock::time_point when, Clock::time_point now) {
  if (when == Clock::time_point::max()) return 24 * 3600 * 1000;
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(when - now).count();
  return static_cast<int>(std::clamp<int64_t>(ms, 0, 24 * 3600 * 1000));
}

int EventFd() {
  int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd < 0)
    throw nova::Error(nova::ErrorKind::kFailed, std::string("eventfd: ") + strerror(errno));
  return fd;
}

void Wake(int fd) {
  uint64_t one = 1;
  [[maybe_unused]] auto ignored = write(fd, &one, sizeof one);
}

void LogPriorityPolicy(const nova::PriorityPolicy& priority) {
  if (priority.enabled) {
    spdlog::info(
        "process priority management enabled (CODER_PROC_PRIO_MGMT=\"{}\", os linux): "
        "agents get oom_score_adj {} and nice {}",
        std::getenv("CODER_PROC_PRIO_MGMT"), priority.oom_score_adj, priority.nice);
  } else {
    spdlog::info(
        "process priority management not enabled (linux-only) (CODER_PROC_PRIO_MGMT unset, "
        "os linux)");
  }
  for (const auto& problem : priority.problems) spdlog::error("{}", problem);
}

std::optional<nova::PressureTrigger> ArmPressureTrigger(const nova::Config& config) {
  if (config.pressure_stall.count() == 0) return std::nullopt;
  std::string why;
  auto trigger = nova::PressureTrigger::Open(config.pressure_stall, kPressureWindow, &why);
  if (!trigger) {
    spdlog::warn("memory PSI trigger unavailable ({}); the watcher relies on polling", why);
  }
  return trigger;
}

// The real host, pinging the watchdog whenever the watcher reads memory or
// waits inside a relief: a relief killing one agent after another is the
// watcher at work, not stuck.
class WatchdogWatchHost final : public nova::WatchHost {
 public:
  WatchdogWatchHost(nova::WatchHost& host, nova::Watchdog& watchdog)
      : host_(host), watchdog_(watchdog) {}
  nova::HostMemory ReadMemory() override {
    watchdog_.PingIfDue(Clock::now());
    return host_.ReadMemory();
  }
  std::vector<nova::AgentMemory> ReadAgents() override { return host_.ReadAgents(); }
  void KillAgent(const std::string& agent, const nova::KillMarker& marker) override {
    host_.KillAgent(agent, marker);
  }
  std::optional<uint64_t> AgentAnonMemory(const std::string& agent) override {
    return host_.AgentAnonMemory(agent);
  }
  Clock::time_point Now() override { return host_.Now(); }
  void Sleep(std::chrono::milliseconds duration) override {
    watchdog_.PingIfDue(Clock::now());
    host_.Sleep(duration);
  }
  void Emit(const nova::WatchEvent& event) override { host_.Emit(event); }
  nova::OomSource& Oom() override { return host_.Oom(); }

 private:
  nova::WatchHost& host_;
  nova::Watchdog& watchdog_;
};

// The watcher's thread runs at real-time priority, the lowest (SCHED_FIFO 1).
// A host near exhaustion is a busy host, and under load a normal thread
// waited hundreds of milliseconds for a CPU after its poll returned (bench
// load.sh). The watcher sleeps in poll nearly all the time and does bounded
// work when awake; the kernel keeps 5% of each second for normal threads
// whatever it does. Where real-time is refused (a container), it says so and
// runs as before.
void GiveWatcherRealTimePriority() {
  sched_param param{};
  param.sched_priority = 1;
  if (int error = pthread_setschedparam(pthread_self(), SCHED_FIFO, &param); error != 0) {
    spdlog::warn("the memory watcher runs at normal priority: SCHED_FIFO refused ({})",
                 std::strerror(error));
  }
}

// The memory watcher's thread: checks memory when due or when the PSI
// trigger fires, runs the reliefs asked for over the bus, publishes the
// admission gate's state and pings the watchdog. Returns when `stop_fd` is
// readable; an error ends novad (systemd restarts it).
void WatchMemory(const nova::Config& config, nova::Systemd& systemd,
                 const nova::OutcomeStore& outcomes, nova::AdmissionGate& gate,
                 std::optional<nova::PressureTrigger> pressure, nova::Watchdog watchdog,
                 nova::CallDispatch& dispatch, nova::Metrics& metrics, int stop_fd) {
  nova::LinuxWatchHost linux_host(systemd, outcomes);
  nova::CountingWatchHost counted(linux_host, metrics, config.relief_percent);
  WatchdogWatchHost host(counted, watchdog);
  nova::MemoryWatcher watcher(config, host, gate);

  // The gate's state for `novactl status`: published at start (open) and
  // at each change, whether the watcher's check or a relief made it.
  std::string admission_file = std::string(nova::kRuntimeDir) + "/" + nova::kAdmissionStateFile;
  std::optional<bool> published;
  auto publish_admission = [&] {
    if (published == gate.open()) return;
    nova::AdmissionState state{gate.open(), nova::RealtimeUsec(),
                               nova::ReadHostMemory().used_percent()};
    try {
      nova::WriteAdmissionState(admission_file, state);
    } catch (const nova::Error& e) {
      spdlog::warn("{}; novactl status cannot tell whether admission is closed", e.what());
    }
    published = gate.open();  // a failure is said once
  };
  publish_admission();

  // One clock read per wake-up and one after a check: under emulation
  // (the test VM's HPET) each is a system call.
  auto next_check = Clock::now();
  for (;;) {
    auto now = Clock::now();
    if (now >= next_check) {
      nova::Usec interval = watcher.Check();
      publish_admission();
      now = Clock::now();
      next_check = now + interval;
    }
    auto next_ping = watchdog.PingIfDue(now);
    systemd.DrainMessages();
    int timeout = std::min(MillisecondsUntil(next_check, now), MillisecondsUntil(next_ping, now));
    std::array<pollfd, 3> fds{{{stop_fd, POLLIN, 0},
                               {pressure ? pressure->fd() : -1, POLLPRI, 0},
                               {dispatch.watcher_fd(), POLLIN, 0}}};
    if (::poll(fds.data(), fds.size(), timeout) < 0 && errno != EINTR) {
      throw nova::Error(nova::ErrorKind::kFailed, std::string("poll: ") + std::strerror(errno));
    }
    if (fds[0].revents & POLLIN) return;
    if (fds[1].revents & POLLPRI) {
      next_check = Clock::now();  // memory pressure: look now
    } else if (fds[1].revents & (POLLERR | POLLNVAL)) {
      spdlog::warn("memory PSI trigger failed; the watcher relies on polling");
      pressure.reset();
    }
    if (fds[2].revents & POLLIN) {
      dispatch.RunWatcherWork(watcher);
      publish_admission();
    }
  }
}

// The bus thread's loop: calls in (a bounded batch per turn, so that
// replies go out during a flood), replies out, the priority sweep. Returns
// on SIGTERM or SIGINT, or when the watcher failed (exit code 1).
void ServeBus(sdbus::IConnection& connection, nova::CallDispatch& dispatch,
              const nova::PriorityPolicy& priority, int signal_fd, int failed_fd, int* exit_code) {
  nova::PrioritySweeper sweeper(priority);
  auto next_sweep = Clock::now();
  for (;;) {
    auto now = Clock::now();
    if (priority.enabled && now >= next_sweep) {
      sweeper.Sweep();
      next_sweep = now + nova::PrioritySweeper::kInterval;
    }
    dispatch.DeliverOutcomes();
    bool more = false;
    for (int i = 0; i < 64 && (more = nova::sdbus_compat::ProcessPending(connection)); ++i) {
    }

    now = Clock::now();
    int timeout = more ? 0 : 24 * 3600 * 1000;
    if (priority.enabled) timeout = std::min(timeout, MillisecondsUntil(next_sweep, now));
    auto poll_data = connection.getEventLoopPollData();
    int bus_timeout = poll_data.getPollTimeout();
    if (bus_timeout >= 0) timeout = std::min(timeout, bus_timeout);
    // Signals, the watcher's failure, finished work, then the bus's descriptors.
    std::array<pollfd, 3 + nova::sdbus_compat::kBusPollFdCount> fds{
        {{signal_fd, POLLIN, 0}, {failed_fd, POLLIN, 0}, {dispatch.outcome_fd(), POLLIN, 0}}};
    auto bus_fds = nova::sdbus_compat::PollFds(poll_data);
    std::copy(bus_fds.begin(), bus_fds.end(), fds.begin() + 3);
    if (::poll(fds.data(), fds.size(), timeout) < 0 && errno != EINTR) {
      throw nova::Error(nova::ErrorKind::kFailed, std::string("poll: ") + std::strerror(errno));
    }
    if (fds[0].revents & POLLIN) {
      signalfd_siginfo info{};
      if (read(signal_fd, &info, sizeof info) > 0) {
        spdlog::info("received signal {}, stopping; agents keep running", info.ssi_signo);
      }
      return;
    }
    if (fds[1].revents & POLLIN) {
      *exit_code = 1;
      return;
    }
  }
}

struct Worker {
  std::unique_ptr<nova::Systemd> systemd;
  std::unique_ptr<nova::AgentManager> manager;
  std::thread thread;
};

int Run(const std::string& config_path) {
  nova::Config config = nova::LoadConfig(config_path);
  auto systemd = nova::ConnectSystemd();  // the bus thread's, for what novad finds at start
  nova::OutcomeStore outcomes(nova::kStateDir, nova::kRuntimeDir);
  nova::PriorityPolicy priority = nova::ReadPriorityPolicy();
  LogPriorityPolicy(priority);
  nova::AdmissionGate gate(config);
  nova::SpawnsInFlight in_flight;
  nova::Metrics metrics;

  auto agents = systemd->AgentStates();
  spdlog::info("novad {} starting: systemd {}, {} running agent(s) found", nova::kVersion,
               systemd->Version(), std::count_if(agents.begin(), agents.end(), [](auto& a) {
                 return a.second.live();
               }));
  systemd.reset();  // idle from here on: its signals would only pile up

  auto pressure = ArmPressureTrigger(config);
  nova::Watchdog watchdog = nova::Watchdog::FromSystemd();
  spdlog::info(
      "memory watcher: admission closes at {}% (reopens below {}%), relief at {}% down to "
      "below {}%{}; /proc/meminfo every {} to {}, {}; {}",
      config.admission_percent, config.admission_reopen_percent, config.relief_percent,
      config.relief_target_percent, config.relief_dry_run ? " (dry run: reports only)" : "",
      nova::FormatDuration(config.watch_interval_max),
      nova::FormatDuration(config.watch_interval_min),
      pressure ? "PSI trigger at " + nova::FormatDuration(config.pressure_stall) + " stall per 1s"
               : std::string("no PSI trigger"),
      watchdog.enabled()
          ? "systemd watchdog " + nova::FormatDuration(*watchdog.timeout()) + ", pinged every " +
                nova::FormatDuration(nova::WatchdogPingInterval(*watchdog.timeout()))
          : std::string("no systemd watchdog"));

  spdlog::info(
      "limits: callers other than root get at most {} memory, {} tasks and {} per agent and {} "
      "agent(s) each; admission {}",
      nova::FormatSize(config.memory_max_ceiling), config.tasks_max_ceiling,
      nova::FormatDuration(config.runtime_max_ceiling),
      config.max_agents_per_user == 0 ? std::string("unlimited")
                                      : std::to_string(config.max_agents_per_user),
      config.max_agents == 0
          ? "by memory (MaxAgents=auto: " +
                nova::FormatSize(nova::MemoryForAgents(config, nova::ReadHostMemory().total)) +
                " set aside for agents)"
          : "by count (MaxAgents=" + std::to_string(config.max_agents) + ")");
  spdlog::info(
      "calls: {} workers, at most {} waiting and {} in progress per user other than root; start "
      "jobs given {} (StartTimeout)",
      kWorkers, kQueueLimits.max_waiting, kQueueLimits.max_per_caller,
      nova::FormatDuration(config.start_timeout));

  // Blocked before any thread starts, so that every thread inherits the
  // mask and only the bus thread's signalfd sees them.
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigprocmask(SIG_BLOCK, &mask, nullptr);
  int signal_fd = signalfd(-1, &mask, SFD_CLOEXEC);
  int stop_fd = EventFd();    // tells the watcher to stop
  int failed_fd = EventFd();  // the watcher tells the bus thread it failed

  nova::CallDispatch dispatch(kQueueLimits);
  // Every connection is made and the name taken before any thread starts,
  // so that novad fails at start with one line, not later. Calls arriving
  // meanwhile wait in the bus's queue.
  auto watch_systemd = nova::ConnectSystemd(nova::SecondConnection::kNow);
  std::vector<Worker> workers(kWorkers);
  for (auto& worker : workers) {
    worker.systemd = nova::ConnectSystemd(nova::SecondConnection::kNow);
    worker.manager = std::make_unique<nova::AgentManager>(
        *worker.systemd, config, outcomes, nova::ReadHostMemory, nova::kAgentHookPath, priority,
        &gate, &in_flight, &metrics);
  }
  auto connection = sdbus::createSystemBusConnection();
  nova::NovaService service(*connection, dispatch);
  connection->requestName(nova::sdbus_compat::ServiceName(nova::kBusName));

  std::thread watcher_thread([&, pressure = std::move(pressure)]() mutable {
    nova::NameThisThread("watcher");
    GiveWatcherRealTimePriority();
    try {
      WatchMemory(config, *watch_systemd, outcomes, gate, std::move(pressure), watchdog, dispatch,
                  metrics, stop_fd);
    } catch (const std::exception& e) {
      spdlog::critical("memory watcher stopped: {}", e.what());
      Wake(failed_fd);
    }
  });
  for (size_t i = 0; i < workers.size(); ++i) {
    workers[i].thread = std::thread([&dispatch, manager = workers[i].manager.get(), i] {
      nova::NameThisThread("worker-" + std::to_string(i + 1));
      dispatch.RunWorker(*manager);
    });
  }
  spdlog::info("serving {} on the system bus", nova::kBusName);
  nova::NotifyReady();

  nova::MetricsWriter metrics_writer(config.metrics_file, config.metrics_interval, metrics,
                                     [&gate] { return gate.open(); });
  int exit_code = 0;
  try {
    ServeBus(*connection, dispatch, priority, signal_fd, failed_fd, &exit_code);
  } catch (const std::exception& e) {
    spdlog::critical("bus thread stopped: {}", e.what());
    exit_code = 1;
  }

  // Stopping: no new call is taken, waiting ones are answered, the watcher
  // stops, each worker ends its call in progress, their replies go out.
  nova::NotifyStopping();
  dispatch.Close();
  Wake(stop_fd);
  watcher_thread.join();
  for (auto& worker : workers) worker.thread.join();
  try {
    dispatch.DeliverOutcomes();
    while (nova::sdbus_compat::ProcessPending(*connection)) {
    }
    connection->releaseName(nova::sdbus_compat::ServiceName(nova::kBusName));
  } catch (const std::exception& e) {
    spdlog::warn("while stopping: {}", e.what());
  }
  spdlog::info("stopped");
  return exit_code;
}

}  // namespace

int main(int argc, char** argv) {
  // glibc gives each thread that allocates an arena of its own, up to 8 per
  // core; novad's dozen threads (workers, bus, watcher, metrics) then hold
  // memory long after a burst of spawns. Two arenas are plenty for them.
  // (Their per-thread caches are turned off in novad.service: glibc takes
  // that from GLIBC_TUNABLES only.)
  mallopt(M_ARENA_MAX, 2);
  // No transparent huge pages: with THP set to "always", a
  // thread's stack whose 8 MiB mapping happens to hold an aligned 2 MiB
  // range gets a whole huge page at its first touch, a quarter of novad's
  // memory for a few KiB used (bench idle.sh saw it come and go with the
  // mapping's address). novad's memory is small and gains nothing from them.
  prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);
  // The sweep and the metrics writer keep up to seven files open per agent
  // (AgentCgroups); systemd gives services a soft limit of 1024 descriptors
  // and a hard one far above, and expects a daemon that needs more to raise
  // its own. novad uses poll(), never select(), so any number is safe.
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }
  // journald adds the timestamp and the unit; keep the lines plain.
  auto logger = spdlog::stdout_logger_mt("novad");
  logger->set_pattern("%l: %v");
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);

  std::string config_path = nova::kConfigPath;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--config" && i + 1 < argc) {
      config_path = argv[++i];
    } else if (arg == "--version") {
      std::cout << "novad " << nova::kVersion << std::endl;
      return 0;
    } else {
      std::cout << "usage: novad [--config FILE] [--version]\n\n"
                   "The Nova daemon; run by systemd as novad.service. Configuration: "
                << nova::kConfigPath << " (see novad(8)).\n";
      return arg == "--help" || arg == "-h" ? 0 : 2;
    }
  }
  try {
    return Run(config_path);
  } catch (const nova::Error& e) {
    spdlog::critical("{}", e.what());
    return nova::ExitCodeFor(e.kind());
  } catch (const std::exception& e) {
    spdlog::critical("{}", e.what());
    return 1;
  }
}
