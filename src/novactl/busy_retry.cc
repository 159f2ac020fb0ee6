#include "busy_retry.h"

#include <algorithm>
#include <iostream>
#include <random>
#include <thread>

#include "errors.h"

namespace nova {

BusyRetry DefaultBusyRetry() {
  BusyRetry how;
  how.sleep = [](std::chrono::milliseconds pause) { std::this_thread::sleep_for(pause); };
  how.now = [] { return std::chrono::steady_clock::now(); };
  how.say = [](const std::string& line) { std::cerr << line << std::endl; };
  how.random = [] {
    static std::minstd_rand generator(std::random_device{}());
    return static_cast<uint32_t>(generator());
  };
  return how;
}

std::chrono::milliseconds BusyPause(int attempt, uint32_t random) {
  int64_t full = 10LL << std::min(attempt, 6);  // 10, 20, ... 640
  full = std::min<int64_t>(full, 500);
  return std::chrono::milliseconds(full - static_cast<int64_t>(random % (full / 2 + 1)));
}

void RetryWhileBusy(const std::function<void()>& call, const BusyRetry& how) {
  auto start = how.now();
  bool said = false;
  for (int attempt = 0;; ++attempt) {
    try {
      call();
      return;
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::kBusy) throw;
      auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(how.now() - start);
      if (waited >= how.patience) throw;
      if (!said && waited >= how.say_after) {
        how.say(std::string("novactl: ") + e.what() + "; still trying, for up to " +
                std::to_string(how.patience.count() / 1000) + " s in all");
        said = true;
      }
      how.sleep(BusyPause(attempt, how.random()));
    }
  }
}

}  // namespace nova
