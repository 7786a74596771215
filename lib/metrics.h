// `kcm node-report --format=prometheus` (docs/cli.md): the node report as Prometheus
// text exposition format 0.0.4, for node_exporter's textfile collector or any scraper.
//
// prometheus_text is pure (a function of the report). The names follow Prometheus's
// conventions: the kcm_ prefix, gauges only (no _total, which is for counters), base
// units (seconds). Every family has its HELP and TYPE lines and its samples together;
// label values are escaped (\\, \", \n).
#pragma once

#include <string>
#include <string_view>

#include "report.h"

namespace kcm {

// The families, in this order (absent ones left out):
//   kcm_check_ok{check}                      1 when a check found nothing, else 0
//   kcm_check_errors{check}                  its errors
//   kcm_audit_violations{check}              the culprits an audit check names
//   kcm_pool_exclusive{pool}                 1 for an exclusive pool
//   kcm_pool_cpus{pool}                      CPUs in its lists
//   kcm_pool_cpu_lists{pool}                 its lists
//   kcm_pool_free_cpu_lists{pool}            lists whose tasks are empty
//   kcm_pool_holders{pool}                   distinct PIDs in its tasks files
//   kcm_last_reconcile_timestamp_seconds     when reconcile last finished a round
std::string prometheus_text(const NodeReport& report);

// A label value as the exposition format writes it between quotes.
std::string escape_label_value(std::string_view value);

// Replaces `path` with `text` atomically: a temp file in the same directory (named with
// a leading dot and no .prom suffix, so the textfile collector never reads it half
// written), then a rename over `path`. Throws Error naming the path.
void write_textfile(const std::string& path, const std::string& text);

}  // namespace kcm
