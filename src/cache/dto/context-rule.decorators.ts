import { applyDecorators } from '@nestjs/common';
import { ArrayMaxSize, IsArray, IsInt, IsString, Matches, Max, Min, Validate } from 'class-validator';
import { CACHE_KEY_PATTERN } from '../cache-key';
import {
  GENERATOR_VERSION_PATTERN,
  MAX_DIFFICULTY,
  MAX_EXCLUDED_KEYS,
  MIN_DIFFICULTY,
  NAMESPACE_PATTERN,
  RULE_MESSAGES,
  TYPE_PATTERN,
  integerRangeMessage,
} from '../context-rules';
import { IsTopicListRule } from './is-topic-list.validator';

// The context rules (context-rules.ts) as class-validator decorators: the request DTOs give the
// same limits and messages as the library. Messages name the property; the validation exception
// factory puts the parent's name in front ("context.type ...").

/** Decorators as if written one above the other: applied bottom-up, so messages keep their order. */
const stacked = (...decorators: PropertyDecorator[]) => applyDecorators(...decorators.reverse());

/** An integer from min to max; `unit` is said in the message ("(seconds)"). */
export const IsIntegerIn = (field: string, min: number, max: number, unit?: string) => {
  const message = integerRangeMessage(field, min, max, unit);
  return stacked(IsInt({ message }), Min(min, { message }), Max(max, { message }));
};

export const IsExerciseType = (missingMessage?: string) =>
  stacked(IsString({ message: missingMessage ?? RULE_MESSAGES.type() }), Matches(TYPE_PATTERN, { message: RULE_MESSAGES.type() }));

export const IsDifficulty = () => IsIntegerIn('difficulty', MIN_DIFFICULTY, MAX_DIFFICULTY);

/** A list of topics; `notAListMessage` replaces the message for a value that is no list ("topics is required"). */
export const IsTopicList = (notAListMessage?: string) => Validate(IsTopicListRule, notAListMessage ? [notAListMessage] : []);

export const IsNamespace = () => stacked(IsString({ message: RULE_MESSAGES.namespace() }), Matches(NAMESPACE_PATTERN, { message: RULE_MESSAGES.namespace() }));

export const IsGeneratorVersion = () =>
  stacked(IsString({ message: RULE_MESSAGES.generatorVersion() }), Matches(GENERATOR_VERSION_PATTERN, { message: RULE_MESSAGES.generatorVersion() }));

export const IsKeyList = () =>
  stacked(IsArray({ message: RULE_MESSAGES.keyList() }), ArrayMaxSize(MAX_EXCLUDED_KEYS, { message: RULE_MESSAGES.keyCount() }), Matches(CACHE_KEY_PATTERN, { each: true, message: RULE_MESSAGES.keyList() }));
