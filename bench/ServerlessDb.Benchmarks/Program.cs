using BenchmarkDotNet.Running;

// dotnet run -c Release --project bench/ServerlessDb.Benchmarks -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
