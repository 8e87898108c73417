import { describe, expect, it } from 'vitest';
import { classifyTerm, dateOf, patientQueries, wordsOf } from './search-term';

describe('classifyTerm', () => {
  it('reads the four date forms as birth dates', () => {
    expect(classifyTerm('1984')).toEqual({ kind: 'date', birthdate: '1984' });
    expect(classifyTerm('1984-03')).toEqual({ kind: 'date', birthdate: '1984-03' });
    expect(classifyTerm(' 1984-03-07 ')).toEqual({ kind: 'date', birthdate: '1984-03-07' });
    expect(classifyTerm('07/03/1984')).toEqual({ kind: 'date', birthdate: '1984-03-07' });
    expect(classifyTerm('7/3/1984')).toEqual({ kind: 'date', birthdate: '1984-03-07' });
  });

  it('does not take impossible dates for dates: they have digits, so they are identifiers', () => {
    expect(dateOf('1984-13')).toBeUndefined();
    expect(dateOf('1984-02-30')).toBeUndefined();
    expect(dateOf('31/04/1984')).toBeUndefined();
    expect(dateOf('29/02/1984')).toBe('1984-02-29');
    expect(dateOf('29/02/1985')).toBeUndefined();
    expect(classifyTerm('1984-02-30').kind).toBe('identifier');
  });

  it('reads a term with digits as an identifier (searched as a name too)', () => {
    expect(classifyTerm('MRN-00123')).toEqual({ kind: 'identifier', identifier: 'MRN-00123', words: ['MRN-00123'] });
    expect(classifyTerm('12345')).toEqual({ kind: 'identifier', identifier: '12345', words: ['12345'] });
    expect(classifyTerm('123456').kind).toBe('identifier');
  });

  it('reads anything else as a name, word by word', () => {
    expect(classifyTerm('ann')).toEqual({ kind: 'name', words: ['ann'] });
    expect(classifyTerm('Ash, Ann')).toEqual({ kind: 'name', words: ['Ash', 'Ann'] });
    expect(classifyTerm('  ')).toEqual({ kind: 'empty' });
    expect(wordsOf(' de  la Cruz ')).toEqual(['de', 'la', 'Cruz']);
  });
});

describe('patientQueries', () => {
  const params = (q: Array<[string, string]>) => new URLSearchParams(q).toString();

  it('searches a name with one criterion per word, 20 a page, sorted by family name', () => {
    const qs = patientQueries(classifyTerm('ash ann'), '');
    expect(qs.map(params)).toEqual(['name=ash&name=ann&_count=20&_sort=family%2Cgiven']);
  });

  it('searches an identifier and a name as two queries, and adds the gender to each', () => {
    const qs = patientQueries(classifyTerm('A123'), 'female');
    expect(qs.map(params)).toEqual(['identifier=A123&_count=20&_sort=family%2Cgiven&gender=female', 'name=A123&_count=20&_sort=family%2Cgiven&gender=female']);
  });

  it('searches a birth date; a gender alone lists that gender; nothing searches nothing', () => {
    expect(patientQueries(classifyTerm('07/03/1984'), '').map(params)).toEqual(['birthdate=1984-03-07&_count=20&_sort=family%2Cgiven']);
    expect(patientQueries(classifyTerm(''), 'male').map(params)).toEqual(['_count=20&_sort=family%2Cgiven&gender=male']);
    expect(patientQueries(classifyTerm(''), '')).toEqual([]);
  });
});
