import type { INestApplicationContext } from '@nestjs/common';
import type { Command } from 'commander';

export interface GlobalOptions {
  json: boolean;
  verbose: boolean;
}

/** What a command does once the services are up; returns its exit code (default 0). */
export type CommandAction = (app: INestApplicationContext, globals: GlobalOptions) => Promise<number | void>;

/** Boots the services for `command`, runs `action`, shuts down; set up once by the program. */
export type Run = (command: Command, action: CommandAction) => Promise<void>;
