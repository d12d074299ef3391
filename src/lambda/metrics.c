#include <inttypes.h>
#include <string.h>

#include "json/json.h"
#include "lambda/lambda.h"

/* Names and units as the dashboards and alarms in deploy/template.yaml
 * refer to them; changing one orphans the old metric. */
static const struct {
  const char *name;
  const char *unit;
} metric_names[] = {
  {"CollationSeconds", "Seconds"}, {"NewRows", "Count"},     {"DeletedRows", "Count"},
  {"RejectedEntries", "Count"},    {"HistoryRows", "Count"}, {"BytesRead", "Bytes"},
  {"BytesWritten", "Bytes"},       {"Retries", "Count"},     {"RejectedUploads", "Count"},
};

cl_status lambda_metrics_emf(const collate_result *result, const char *function_role,
                             uint64_t retries, int64_t timestamp_ms, buf *out)
{
  const char *log_type = result->log_type[0] ? result->log_type : "unknown";
  buf_printf(out, "{\"_aws\": {\"Timestamp\": %" PRId64 ", \"CloudWatchMetrics\": [{"
                  "\"Namespace\": \"Collator\", \"Dimensions\": [[\"LogType\", "
                  "\"FunctionRole\"]], \"Metrics\": [",
             timestamp_ms);
  for(size_t i = 0; i < sizeof(metric_names) / sizeof(metric_names[0]); i++)
    buf_printf(out, "%s{\"Name\": \"%s\", \"Unit\": \"%s\"}", i ? ", " : "",
               metric_names[i].name, metric_names[i].unit);
  buf_append_str(out, "]}]}, \"LogType\": ");
  json_write_string(out, log_type, strlen(log_type), 1);
  buf_append_str(out, ", \"FunctionRole\": ");
  json_write_string(out, function_role, strlen(function_role), 1);
  buf_printf(out, ", \"Outcome\": \"%s\"", collate_outcome_name(result->outcome));
  buf_printf(out,
             ", \"CollationSeconds\": %.6f, \"NewRows\": %" PRIu64 ", \"DeletedRows\": %" PRIu64
             ", \"RejectedEntries\": %" PRIu64 ", \"HistoryRows\": %" PRIu64
             ", \"BytesRead\": %" PRIu64 ", \"BytesWritten\": %" PRIu64
             ", \"Retries\": %" PRIu64 ", \"RejectedUploads\": %d}",
             result->seconds, result->new_rows, result->deleted_rows, result->rejected_entries,
             result->history_rows, result->bytes_read, result->bytes_written, retries,
             result->outcome == COLLATE_REJECTED ? 1 : 0);
  return buf_status(out);
}
