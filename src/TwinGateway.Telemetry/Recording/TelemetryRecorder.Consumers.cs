using DuckDB.NET.Data;

namespace TwinGateway.Telemetry.Recording;

/// <summary>Consumers' high-water marks (the InfluxDB forwarder's), and retention bounded by them.</summary>
public sealed partial class TelemetryRecorder
{
    /// <summary>The high-water mark of a consumer (the last sequence number it has fully handled); 0 when never set.</summary>
    public long GetHighWater(string consumer) => Guard("reading a high-water mark", () => GetHighWaterUnguarded(consumer));

    private long GetHighWaterUnguarded(string consumer)
    {
        lock (_controlLock)
        {
            using var command = _control.CreateCommand();
            command.CommandText = "SELECT high_water FROM consumers WHERE name = $1";
            command.Parameters.Add(new DuckDBParameter(consumer));
            return command.ExecuteScalar() is long value ? value : 0;
        }
    }

    /// <summary>Stores a consumer's high-water mark durably.</summary>
    public void SetHighWater(string consumer, long seq) => Guard("storing a high-water mark", () => SetHighWaterUnguarded(consumer, seq));

    private int SetHighWaterUnguarded(string consumer, long seq)
    {
        lock (_controlLock)
        {
            using var command = _control.CreateCommand();
            command.CommandText = "INSERT OR REPLACE INTO consumers VALUES ($1, $2, $3)";
            command.Parameters.Add(new DuckDBParameter(consumer));
            command.Parameters.Add(new DuckDBParameter(seq));
            command.Parameters.Add(new DuckDBParameter(TelemetryTime.ToUnixNanoseconds(_time.GetUtcNow())));
            return command.ExecuteNonQuery();
        }
    }

    /// <summary>Every consumer's high-water mark.</summary>
    public IReadOnlyDictionary<string, long> GetHighWaters()
    {
        lock (_controlLock)
        {
            using var command = _control.CreateCommand();
            command.CommandText = "SELECT name, high_water FROM consumers";
            using var reader = command.ExecuteReader();
            var marks = new Dictionary<string, long>(StringComparer.Ordinal);
            while (reader.Read())
            {
                marks[reader.GetString(0)] = reader.GetInt64(1);
            }

            return marks;
        }
    }

    /// <summary>
    /// Deletes samples whose source time is before <paramref name="cutoff"/> (Unix ns) and whose sequence number is at
    /// most <paramref name="maxSeq"/> (the lowest consumer mark: nothing unforwarded is deleted). Returns how many.
    /// </summary>
    public long DeleteBefore(long cutoff, long maxSeq) => Guard("deleting old samples", () => DeleteBeforeUnguarded(cutoff, maxSeq));

    private long DeleteBeforeUnguarded(long cutoff, long maxSeq)
    {
        lock (_controlLock)
        {
            using var command = _control.CreateCommand();
            command.CommandText = "DELETE FROM samples WHERE source_time < $1 AND seq <= $2";
            command.Parameters.Add(new DuckDBParameter(cutoff));
            command.Parameters.Add(new DuckDBParameter(maxSeq));
            return command.ExecuteNonQuery();
        }
    }
}
