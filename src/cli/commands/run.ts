import type { INestApplicationContext } from '@nestjs/common';
import type { Command } from 'commander';

export interface GlobalOptions {
  json: boolean;
  verbose: boolean;
}

/** A command's work once the services are up; returns its exit code (default 0). */
export type Work = (app: INestApplicationContext, globals: GlobalOptions) => Promise<number | void>;

/** Boots the services for `command`, runs `work`, shuts down; set up once by the program. */
export type Run = (command: Command, work: Work) => Promise<void>;
