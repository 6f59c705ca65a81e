using TwinGateway.Core.Lines;

namespace TwinGateway.Core.Tests;

public sealed class LineDirectoryTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("twingw-lines-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Repository_line_folder_loads()
    {
        var result = LineDefinitionLoader.LoadDirectory(RepositoryPaths.LinesDirectory);
        Assert.Empty(result.Errors);
        Assert.Contains(result.Lines, l => l.Id == "demo-line");
    }

    [Fact]
    public void Duplicate_line_ids_across_files_name_both_files()
    {
        var first = Write("a-line.yaml", LineDefinitionErrorTests.MiniLine);
        var second = Write("b-line.yml", LineDefinitionErrorTests.MiniLine);

        var result = LineDefinitionLoader.LoadDirectory(_directory);

        var error = Assert.Single(result.Errors);
        Assert.Equal(second, error.File);
        Assert.Equal((1, 5, "id"), (error.Line, error.Column, error.Path));
        Assert.Equal($"duplicate line id 'mini': {first} already defines it (at line 1); line ids are unique across all line files", error.Message);
        var line = Assert.Single(result.Lines);
        Assert.Equal(first, line.Source!.Value.File);
        Assert.Equal(error, Assert.Single(result.SetErrors));
        Assert.Throws<LineDefinitionException>(() => result.GetLinesOrThrow());
    }

    [Fact]
    public void Problems_are_reported_per_file_and_good_files_still_load()
    {
        var good = Write("good.yaml", LineDefinitionErrorTests.MiniLine);
        var bad = Write("bad.yaml", LineDefinitionErrorTests.MiniLine.Replace("id: mini", "id: other", StringComparison.Ordinal).Replace("kind: machine", "kind: robotarm", StringComparison.Ordinal));
        Write("notes.txt", "not a line file");

        var result = LineDefinitionLoader.LoadDirectory(_directory);

        var error = Assert.Single(result.Errors);
        Assert.Equal((bad, 8, 11), (error.File, error.Line, error.Column));
        Assert.Equal(good, Assert.Single(result.Lines).Source!.Value.File);
        Assert.False(result.Succeeded);
        Assert.Empty(result.SetErrors);
    }

    [Fact]
    public void Missing_folder_is_an_error_and_an_empty_one_is_not()
    {
        var missing = Path.Combine(_directory, "missing");
        var result = LineDefinitionLoader.LoadDirectory(missing);
        var error = Assert.Single(result.Errors);
        Assert.Equal(missing, error.File);
        Assert.Equal(error, Assert.Single(result.SetErrors));

        var empty = LineDefinitionLoader.LoadDirectory(_directory);
        Assert.True(empty.Succeeded);
        Assert.Empty(empty.Lines);
    }

    private string Write(string name, string text)
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllText(path, text);
        return path;
    }
}
