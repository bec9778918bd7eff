using System.Globalization;
using System.Text.Json;

namespace Cli.Output;

/// <summary>Prints an answer's results: rows in the chosen mode, a write's count, a statement's error on stderr (its message, never a stack trace).</summary>
internal static class AnswerPrinter
{
    /// <returns>whether any statement failed.</returns>
    public static bool Print(JsonDocument answer, OutputMode mode, TextWriter output, TextWriter error)
    {
        var failed = false;
        foreach (var result in QueryResult.ListFrom(answer.RootElement))
        {
            if (result.Error is { } message)
            {
                error.WriteLine($"Error: {message}");
                failed = true;
            }
            else if (result.IsRows)
            {
                ResultWriter.WriteRows(result, mode, output);
            }
            else if (result.RowsAffected is { } affected)
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{affected} {(affected == 1 ? "row" : "rows")} affected"));
            }
        }

        output.Flush();
        return failed;
    }
}
