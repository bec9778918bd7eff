using System.ComponentModel;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ServerlessDb.UnitTests.Locking.Ec2;

/// <summary>
/// Runs botocore_ec2_request.py (copied next to the tests) with python3: botocore's EC2 serializer
/// and SigV4Auth at a fixed time. A missing python3 or botocore fails the test, never skips it.
/// </summary>
internal static class BotocoreReference
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    public sealed record Result(string BotocoreVersion, string Url, string Body, IReadOnlyDictionary<string, string> Headers);

    public static async Task<Result> SignAsync(JsonObject input)
    {
        var script = Path.Combine(AppContext.BaseDirectory, "Locking", "Ec2", "botocore_ec2_request.py");
        Assert.True(File.Exists(script), $"{script} is missing: the test project must copy Locking/Ec2/botocore_ec2_request.py to its output.");

        var start = new ProcessStartInfo("python3", [script])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("Process.Start returned null");
        }
        catch (Win32Exception e)
        {
            Assert.Fail($"The fidelity test needs python3 with botocore on PATH (pip install botocore); starting python3 failed: {e.Message}");
            throw;
        }

        using (process)
        {
            await process.StandardInput.WriteAsync(input.ToJsonString());
            process.StandardInput.Close();
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(Timeout);
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                Assert.Fail($"python3 {script} did not finish within {Timeout}.");
            }

            Assert.True(
                process.ExitCode == 0,
                $"python3 {script} failed (exit {process.ExitCode}); the fidelity test needs python3 with botocore (pip install botocore): {await stderr}");
            var output = JsonNode.Parse(await stdout)!.AsObject();
            return new Result(
                output["botocore_version"]!.GetValue<string>(),
                output["url"]!.GetValue<string>(),
                output["body"]!.GetValue<string>(),
                output["headers"]!.AsObject().ToDictionary(h => h.Key, h => h.Value!.GetValue<string>(), StringComparer.OrdinalIgnoreCase));
        }
    }

    public static JsonObject Input(string operation, JsonObject parameters, string endpoint, string region, IReadOnlyDictionary<string, string>? extraHeaders = null)
    {
        var headers = new JsonObject();
        foreach (var (name, value) in extraHeaders ?? new Dictionary<string, string>())
        {
            headers[name] = value;
        }

        return new JsonObject
        {
            ["operation"] = operation,
            ["params"] = JsonNode.Parse(parameters.ToJsonString(new JsonSerializerOptions())),
            ["endpoint"] = endpoint,
            ["region"] = region,
            ["access_key"] = FidelityCredentials.AccessKey,
            ["secret_key"] = FidelityCredentials.SecretKey,
            ["token"] = FidelityCredentials.Token,
            ["timestamp"] = Ec2TestClients.SignedAt.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", System.Globalization.CultureInfo.InvariantCulture),
            ["extra_headers"] = headers,
        };
    }
}
