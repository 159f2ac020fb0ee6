#include "nova_bus.h"

#include <cstdio>

#include "errors.h"

namespace nova {

void ValidateReliefTarget(double target) {
  if (!(target > 0 && target < 100)) {
    char buf[160];
    std::snprintf(buf, sizeof buf,
                  "relief target %g%% is not valid; expected a percentage of host memory above "
                  "0 and below 100",
                  target);
    throw Error(ErrorKind::kInvalidArgument, buf);
  }
}

}  // namespace nova
