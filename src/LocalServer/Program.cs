
return await LocalServer.LocalServerApp.RunAsync(args);
