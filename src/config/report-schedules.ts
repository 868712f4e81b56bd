// Where the report schedules live (issue 17): reports.json in lantop's configuration directory,
// beside alerts.json (0600, validated by a schema). A schedule names alert channels by id, so the
// SMTP settings and webhook tokens stay in one place (alert-channels.ts). Global, not per profile:
// `router` limits a schedule to one router; without it serve reports on every router it watches.
import type Conf from 'conf';
import { UsageError } from '../errors.js';
import type { ReportLayout, ReportSchedule, ScheduleEvery } from '../domain/report-schedule.js';
import { confClass } from './profiles.js';

export type ScheduleInput = Omit<ReportSchedule, 'id'>;

interface ScheduleShape {
  schedules: ReportSchedule[];
  nextId: number;
}

const NAMED = { type: 'object', required: ['kind'], properties: { kind: { enum: ['daily', 'weekly', 'monthly', 'cycle'] }, startDay: { type: 'integer', minimum: 1, maximum: 31 } }, additionalProperties: false } as const;
const EVERY_SCHEMA = {
  type: 'object',
  required: ['kind'],
  properties: {
    kind: { enum: ['daily', 'weekly', 'monthly', 'cycle', 'cron'] },
    startDay: { type: 'integer', minimum: 1, maximum: 31 },
    expression: { type: 'string', maxLength: 200 },
    covers: { anyOf: [{ type: 'null' }, NAMED] },
  },
  additionalProperties: false,
} as const;
const SCHEDULE_SCHEMA = {
  type: 'object',
  required: ['id', 'name', 'every', 'channels', 'as', 'router', 'createdMs'],
  properties: {
    id: { type: 'integer', minimum: 1 },
    name: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$' },
    every: EVERY_SCHEMA,
    channels: { type: 'array', items: { type: 'integer', minimum: 1 }, minItems: 1, maxItems: 20 },
    as: { enum: ['attachment', 'body', 'both'] },
    router: { anyOf: [{ type: 'null' }, { type: 'string', maxLength: 200 }] },
    createdMs: { type: 'number', minimum: 0 },
  },
  additionalProperties: false,
} as const;

export const REPORT_CONFIG_NAME = 'reports';

export class ReportScheduleStore {
  private readonly conf: Conf<ScheduleShape>;

  constructor(env: NodeJS.ProcessEnv = process.env) {
    const ConfStore = confClass();
    this.conf = new ConfStore<ScheduleShape>({
      projectName: 'lantop',
      projectSuffix: '',
      configName: REPORT_CONFIG_NAME,
      ...(env.LANTOP_CONFIG_DIR ? { cwd: env.LANTOP_CONFIG_DIR } : {}),
      configFileMode: 0o600,
      clearInvalidConfig: false,
      defaults: { schedules: [], nextId: 1 },
      schema: {
        schedules: { type: 'array', items: SCHEDULE_SCHEMA, maxItems: 100 },
        nextId: { type: 'integer', minimum: 1 },
      } as never,
    });
  }

  get path(): string {
    return this.conf.path;
  }

  list(): ReportSchedule[] {
    return this.conf.get('schedules');
  }

  get(name: string): ReportSchedule | undefined {
    return this.list().find((s) => s.name === name);
  }

  /** Saves a schedule under a new id; a name already used is refused. */
  add(schedule: ScheduleInput): ReportSchedule {
    if (this.get(schedule.name) !== undefined) {
      throw new UsageError(`There is already a report schedule named '${schedule.name}'.`, `Remove it first (lantop schedule remove ${schedule.name}) or choose another name.`);
    }
    const id = this.conf.get('nextId');
    const stored: ReportSchedule = { ...schedule, id, every: cleanEvery(schedule.every) };
    try {
      this.conf.set({ schedules: [...this.list(), stored], nextId: id + 1 });
    } catch (error) {
      throw new UsageError(`Cannot save the report schedule: ${(error as Error).message}`, 'Check the values.');
    }
    return stored;
  }

  remove(name: string): boolean {
    const schedules = this.list();
    const left = schedules.filter((s) => s.name !== name);
    if (left.length === schedules.length) return false;
    this.conf.set('schedules', left);
    return true;
  }
}

/** Only the fields of its kind (the schema forbids the rest). */
function cleanEvery(every: ScheduleEvery): ScheduleEvery {
  switch (every.kind) {
    case 'cycle':
      return { kind: 'cycle', startDay: every.startDay };
    case 'cron':
      return { kind: 'cron', expression: every.expression, covers: every.covers === null ? null : cleanEvery(every.covers) as typeof every.covers };
    default:
      return { kind: every.kind };
  }
}

export type { ReportLayout };
