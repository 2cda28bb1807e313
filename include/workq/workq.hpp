// workq/workq.hpp — every workq component. Include the individual headers to
// take only what you use; each one stands alone.
//
//   sync.hpp         the sync shim (std::atomic in production, Relacy in verify/)
//   job_counter.hpp  indexed jobs claimed by fetch-add   (Go: markrootNext/markrootJobs)
//   lfstack.hpp      tagged intrusive lock-free stack    (Go: lfstack)
//   workbuf.hpp      fixed-capacity work buffer          (Go: workbuf)
//   pool.hpp         full/empty buffer stacks            (Go: work.full/work.empty)
//   cache.hpp        per-worker two-buffer cache         (Go: gcWork)
//   termination.hpp  nwait/nproc termination + parking   (Go: getfull)
//   drain.hpp        root-then-heap drain loop           (Go: gcDrain)
#pragma once

#include "workq/cache.hpp"
#include "workq/drain.hpp"
#include "workq/job_counter.hpp"
#include "workq/lfstack.hpp"
#include "workq/pool.hpp"
#include "workq/sync.hpp"
#include "workq/termination.hpp"
#include "workq/workbuf.hpp"
