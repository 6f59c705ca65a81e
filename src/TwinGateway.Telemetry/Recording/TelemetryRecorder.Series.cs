using DuckDB.NET.Data;

namespace TwinGateway.Telemetry.Recording;

/// <summary>Series: one id per line and signal, registered durably on first use and kept in memory.</summary>
public sealed partial class TelemetryRecorder
{
    private readonly Dictionary<(string Line, string Signal), TelemetrySeries> _seriesByKey = [];
    private readonly Dictionary<int, TelemetrySeries> _seriesById = [];
    private int _nextSeriesId;

    /// <summary>Every series the recorder knows, in id order.</summary>
    public IReadOnlyList<TelemetrySeries> Series
    {
        get
        {
            lock (_controlLock)
            {
                return [.. _seriesById.Values.OrderBy(s => s.Id)];
            }
        }
    }

    /// <summary>The series of one signal of one line, registered (durably) on first use.</summary>
    public TelemetrySeries GetSeries(string lineId, string signalId, string? stationId)
    {
        ArgumentException.ThrowIfNullOrEmpty(lineId);
        ArgumentException.ThrowIfNullOrEmpty(signalId);
        lock (_controlLock)
        {
            if (_seriesByKey.TryGetValue((lineId, signalId), out var known))
            {
                return known;
            }

            ObjectDisposedException.ThrowIf(_disposed, this);
            var series = new TelemetrySeries(_nextSeriesId + 1, lineId, signalId, stationId);
            using (var command = _control.CreateCommand())
            {
                command.CommandText = "INSERT INTO series VALUES ($1, $2, $3, $4)";
                command.Parameters.Add(new DuckDBParameter(series.Id));
                command.Parameters.Add(new DuckDBParameter(lineId));
                command.Parameters.Add(new DuckDBParameter(signalId));
                command.Parameters.Add(new DuckDBParameter((object?)stationId ?? DBNull.Value));
                command.ExecuteNonQuery();
            }

            _nextSeriesId = series.Id;
            _seriesById[series.Id] = series;
            _seriesByKey[(lineId, signalId)] = series;
            return series;
        }
    }

    public bool TryGetSeries(string lineId, string signalId, out TelemetrySeries series)
    {
        lock (_controlLock)
        {
            return _seriesByKey.TryGetValue((lineId, signalId), out series!);
        }
    }
}
