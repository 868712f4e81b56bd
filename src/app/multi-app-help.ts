// `lantop --help`'s lines for the app on several routers (issue 20): --routers/--all are read by
// multi-app.ts, not registered with commander (a program option would take them from `usage`).
// A file of its own so cli.ts does not load the app's parser at every command. No line starts
// with two spaces and a word: that is how a command line of the help reads (test/completion.test.ts).
export const APP_ROUTERS_HELP = `
Several routers in the app (docs/cli.md "Several routers"):
  $ lantop --routers home,office  saved profiles, all at once: one combined live view (key r: each
                                  router's own); a menu action asks which router first
  $ lantop --all                  every saved profile
`;
