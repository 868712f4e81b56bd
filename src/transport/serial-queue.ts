// One command in flight per session (issue 4): later calls wait for earlier ones, whatever their
// outcome. ReconnectingSession holds the one queue on a command path (issue 14).
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task, task);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
