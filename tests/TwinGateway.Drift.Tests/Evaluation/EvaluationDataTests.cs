using TwinGateway.Drift.Evaluation;

namespace TwinGateway.Drift.Tests.Evaluation;

public sealed class EvaluationDataTests : IDisposable
{
    private const string SkabHeader = "datetime;Accelerometer1RMS;Pressure;Temperature;anomaly;changepoint";

    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private static string SkabRows(params (double Pressure, int Anomaly, int Changepoint)[] rows) =>
        SkabHeader + "\n" + string.Join("\n", rows.Select((r, i) =>
            FormattableString.Invariant($"2020-03-09 10:14:{i:00};0.0275;{r.Pressure};89.5;{r.Anomaly}.0;{r.Changepoint}.0"))) + "\n";

    [Fact]
    public void Skab_reads_sub_folders_in_path_order_and_skips_the_anomaly_free_file()
    {
        _folder.Write("valve1/0.csv", SkabRows((1, 0, 0), (2, 0, 0), (3, 1, 1), (4, 1, 0), (5, 0, 1), (6, 0, 0)));
        _folder.Write("other/13.csv", SkabRows((1, 0, 0), (2, 0, 0)));
        _folder.Write("anomaly-free/anomaly-free.csv", SkabRows((1, 0, 0)));

        var files = EvaluationData.Read(_folder.Path, EvaluationFormat.Skab).ToList();

        Assert.Equal(["other/13.csv", "valve1/0.csv"], files.Select(f => f.Name));
        var valve = files[1];
        Assert.Equal(["Accelerometer1RMS", "Pressure", "Temperature"], valve.Frames.Columns.ToArray());
        Assert.Equal(6, valve.Frames.Rows);
        Assert.Equal(3f, valve.Frames.Row(2)[1]);
        Assert.Equal([false, false, true, true, false, false], valve.Labels!);
        Assert.Equal([new RowRange(2, 3)], valve.Windows.ToArray());

        // SKAB marks both ends of the anomaly; the change a detector answers is the one entering it.
        Assert.Equal([2], valve.Changepoints.ToArray());
        Assert.Equal(new DateTimeOffset(2020, 3, 9, 10, 14, 1, TimeSpan.Zero).ToUnixTimeMilliseconds(), valve.Frames.Times[1]);
        Assert.Equal(6, valve.TrainRows);
    }

    [Fact]
    public void Skab_takes_the_first_change_mark_in_each_anomaly_and_the_start_where_there_is_none()
    {
        // Marks on the first and the last anomalous row of the first anomaly, none on the second.
        _folder.Write("a.csv", SkabRows((1, 0, 0), (2, 0, 0), (3, 1, 1), (4, 1, 0), (5, 1, 1), (6, 0, 0), (7, 1, 0), (8, 1, 0), (9, 0, 0)));

        var file = Assert.Single(EvaluationData.Read(_folder.Path, EvaluationFormat.Skab));

        Assert.Equal([new RowRange(2, 4), new RowRange(6, 7)], file.Windows.ToArray());
        Assert.Equal([2, 6], file.Changepoints.ToArray());
    }

    [Fact]
    public void Skab_trains_on_the_first_400_rows()
    {
        Assert.Equal(400, EvaluationData.TrainRows(EvaluationFormat.Skab, 1150, null));
    }

    [Fact]
    public void Skab_reports_a_bad_number_with_file_line_and_column()
    {
        var path = _folder.Write("valve2/4.csv",
            SkabHeader + "\n2020-03-09 10:14:00;0.1;1.5;89;0;0\n2020-03-09 10:14:01;0.1;1,6;89;0;0\n");

        var e = Assert.Throws<EvaluationDataException>(() => EvaluationData.Read(_folder.Path, EvaluationFormat.Skab).ToList());

        Assert.Equal(path, e.FilePath);
        Assert.Equal(3, e.Line);
        Assert.Equal(3, e.Column);
        Assert.Equal("Pressure", e.ColumnName);
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains("line 3", e.Message, StringComparison.Ordinal);
        Assert.Contains("column 3 (Pressure)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Skab_reports_a_short_line_and_a_bad_label()
    {
        _folder.Write("a.csv", SkabHeader + "\n2020-03-09 10:14:00;0.1;1.5;89;0\n");
        var shortLine = Assert.Throws<EvaluationDataException>(() => EvaluationData.Read(_folder.Path, EvaluationFormat.Skab).ToList());
        Assert.Equal(2, shortLine.Line);
        Assert.Contains("5 fields", shortLine.Message, StringComparison.Ordinal);

        _folder.Write("a.csv", SkabHeader + "\n2020-03-09 10:14:00;0.1;1.5;89;0.5;0\n");
        var label = Assert.Throws<EvaluationDataException>(() => EvaluationData.Read(_folder.Path, EvaluationFormat.Skab).ToList());
        Assert.Equal((2, 5, "anomaly"), (label.Line, label.Column!.Value, label.ColumnName));
    }

    [Fact]
    public void Skab_needs_its_anomaly_column()
    {
        var path = _folder.Write("a.csv", "datetime;Pressure\n2020-03-09 10:14:00;1\n");

        var e = Assert.Throws<EvaluationDataException>(() => EvaluationData.Read(_folder.Path, EvaluationFormat.Skab).ToList());

        Assert.Equal((path, 1), (e.FilePath, e.Line));
        Assert.Contains("anomaly", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Nab_labels_rows_inside_the_windows_and_trains_on_the_probationary_rows()
    {
        var rows = string.Join("\n", Enumerable.Range(0, 40).Select(i => FormattableString.Invariant($"2014-04-01 {i / 12:00}:{i % 12 * 5:00}:00,{i * 0.5}")));
        _folder.Write("data/realKnownCause/machine.csv", "timestamp,value\n" + rows + "\n");
        _folder.Write("labels/combined_windows.json",
            """
            {
              "realKnownCause/machine.csv": [
                ["2014-04-01 02:00:00.000000", "2014-04-01 02:15:00.000000"],
                ["2014-04-01 01:00:00.000000", "2014-04-01 01:05:00.000000"]
              ]
            }
            """);

        var file = Assert.Single(EvaluationData.Read(_folder.Path, EvaluationFormat.Nab));

        Assert.Equal("realKnownCause/machine.csv", file.Name);
        Assert.Equal(["value"], file.Frames.Columns.ToArray());
        Assert.Equal(40, file.Frames.Rows);
        Assert.Equal([new RowRange(12, 13), new RowRange(24, 27)], file.Windows.ToArray());
        Assert.Equal([12, 24], file.Changepoints.ToArray());
        Assert.Equal(6, file.Labels!.Count(l => l));
        Assert.True(file.Labels![25]);
        Assert.False(file.Labels![28]);
        Assert.Equal(6, file.TrainRows); // floor(0.15 * 40)
    }

    [Fact]
    public void Nab_reports_a_data_file_missing_from_the_labels()
    {
        _folder.Write("data/artificialWithAnomaly/spike.csv", "timestamp,value\n2014-04-01 00:00:00,1\n");
        var labels = _folder.Write("labels/combined_windows.json", """{ "other/file.csv": [] }""");

        var e = Assert.Throws<EvaluationDataException>(() => EvaluationData.Read(_folder.Path, EvaluationFormat.Nab).ToList());

        Assert.Equal(labels, e.FilePath);
        Assert.Contains("artificialWithAnomaly/spike.csv", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Nab_reports_bad_json_with_its_line()
    {
        _folder.Write("data/a/b.csv", "timestamp,value\n2014-04-01 00:00:00,1\n");
        var labels = _folder.Write("labels/combined_windows.json", "{\n  \"a/b.csv\": [\n    [\"2014-04-01\" \"x\"]\n  ]\n}\n");

        var e = Assert.Throws<EvaluationDataException>(() => EvaluationData.Read(_folder.Path, EvaluationFormat.Nab).ToList());

        Assert.Equal((labels, 3), (e.FilePath, e.Line));
    }

    [Fact]
    public void Nab_reports_a_bad_window_with_the_line_of_its_entry()
    {
        _folder.Write("data/a/b.csv", "timestamp,value\n2014-04-01 00:00:00,1\n");
        var labels = _folder.Write("labels/combined_windows.json", "{\n  \"a/b.csv\": [\n    [\"2014-04-01\", \"soon\"]\n  ]\n}\n");

        var e = Assert.Throws<EvaluationDataException>(() => EvaluationData.Read(_folder.Path, EvaluationFormat.Nab).ToList());

        Assert.Equal((labels, 2), (e.FilePath, e.Line));
        Assert.Contains("soon", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Nab_reports_a_bad_timestamp_with_file_line_and_column()
    {
        var path = _folder.Write("data/a/b.csv", "timestamp,value\n2014-04-01 00:00:00,1\n2014-04-01 0x:05:00,2\n");
        _folder.Write("labels/combined_windows.json", """{ "a/b.csv": [] }""");

        var e = Assert.Throws<EvaluationDataException>(() => EvaluationData.Read(_folder.Path, EvaluationFormat.Nab).ToList());

        Assert.Equal((path, 3, 1, "timestamp"), (e.FilePath, e.Line, e.Column!.Value, e.ColumnName));
    }

    [Fact]
    public void Csv_reads_labels_when_present_and_none_when_absent()
    {
        _folder.Write("labelled.csv", "time,a,b,anomaly\n0,1.0,2.0,0\n1.5,1.5,,0\n2,9.0,2.5,1\n");
        _folder.Write("plain/unlabelled.csv", "time,a\n2024-01-01T00:00:00Z,1\n2024-01-01T00:00:01Z,2\n");

        var files = EvaluationData.Read(_folder.Path, EvaluationFormat.Csv).ToList();

        var labelled = files.Single(f => f.Name == "labelled.csv");
        Assert.Equal(["a", "b"], labelled.Frames.Columns.ToArray());
        Assert.True(float.IsNaN(labelled.Frames.Row(1)[1]), "an empty value is missing (NaN)");
        Assert.Equal([false, false, true], labelled.Labels!);
        Assert.Equal([2], labelled.Changepoints.ToArray());
        Assert.Equal(1500, labelled.Frames.Times[1]); // a number is seconds

        var unlabelled = files.Single(f => f.Name == "plain/unlabelled.csv");
        Assert.Null(unlabelled.Labels);
        Assert.Empty(unlabelled.Windows.ToArray());
    }

    [Fact]
    public void Csv_trains_on_the_probationary_rows_cut_before_the_first_anomaly()
    {
        var labels = new bool[1000];
        labels[100] = true;

        Assert.Equal(150, EvaluationData.TrainRows(EvaluationFormat.Csv, 1000, null));
        Assert.Equal(100, EvaluationData.TrainRows(EvaluationFormat.Csv, 1000, labels));
    }

    [Fact]
    public void Csv_rejects_rows_out_of_time_order()
    {
        var path = _folder.Write("a.csv", "time,a\n5,1\n4,2\n");

        var e = Assert.Throws<EvaluationDataException>(() => EvaluationData.Read(_folder.Path, EvaluationFormat.Csv).ToList());

        Assert.Equal((path, 3, 1), (e.FilePath, e.Line, e.Column!.Value));
    }
}
