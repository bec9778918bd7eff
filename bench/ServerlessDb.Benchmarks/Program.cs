using BenchmarkDotNet.Running;

// dotnet run -c Release --project bench/ServerlessDb.Benchmarks -- --filter '*'
// dotnet run -c Release --project bench/ServerlessDb.Benchmarks -- lock-throughput [--seconds 30] (see docs/benchmarks.md)
if (args is ["lock-throughput", ..])
{
    return await ServerlessDb.Benchmarks.LockThroughput.LockThroughputRun.MainAsync(args[1..]);
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
