// Imported first by the CLI: React's development build renders each poll about twice as slowly
// (measured in the Ink app with 254 hosts), and users never need its warnings.
process.env.NODE_ENV ??= 'production';
export {};
