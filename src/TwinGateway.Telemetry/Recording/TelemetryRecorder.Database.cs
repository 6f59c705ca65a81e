using DuckDB.NET.Data;

namespace TwinGateway.Telemetry.Recording;

/// <summary>DuckDB helpers: its failures turned into ours with the real reason, and small statements.</summary>
public sealed partial class TelemetryRecorder
{
    /// <summary>Runs a database step and turns DuckDB's failure into ours, naming the file and the step.</summary>
    private T Guard<T>(string step, Func<T> action)
    {
        try
        {
            return action();
        }
        catch (DuckDBException ex)
        {
            // DuckDB invalidates the database after an I/O error (a full disk): only new connections work again, and
            // the writer thread is the one that may replace them.
            lock (_gate)
            {
                _reconnectRequested = 1;
                Monitor.PulseAll(_gate);
            }

            throw new TelemetryStoreException($"flight recorder {_options.DatabasePath}: {step} failed: {Describe(ex)}", ex);
        }
    }

    private static void Execute(DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static long ScalarInt64(DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static string FirstLine(string message)
    {
        var end = message.IndexOf('\n', StringComparison.Ordinal);
        return end < 0 ? message : message[..end];
    }

    /// <summary>The real reason, in words an operator acts on (a full disk says so).</summary>
    private static string Describe(Exception ex)
    {
        var text = FirstLine(ex.Message);
        if (text.Contains("No space left", StringComparison.OrdinalIgnoreCase) || text.Contains("disk is full", StringComparison.OrdinalIgnoreCase))
        {
            return $"the disk is full ({text})";
        }

        return text;
    }
}
