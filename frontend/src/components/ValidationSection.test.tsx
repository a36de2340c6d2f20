// Tests of the Validation section: the verdict as glyph and word, who judged, the attempts,
// the issues and the suggestions.
import { render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { ValidationSection } from './ValidationSection';

describe('ValidationSection', () => {
  it('shows a failed verdict with its issues, suggestions, judge and retries', () => {
    const validation = { passed: false, issues: ['No length check'], suggestions: ['Add a CHECK'], by: 'llm' };
    render(<ValidationSection validation={validation} attempts={2} />);
    const section = screen.getByRole('region', { name: 'Validation' });
    expect(section.querySelector('[data-passed]')?.textContent).toBe('✗ failed');
    expect(section.querySelector('.status-failed')).not.toBeNull();
    expect(section.textContent).toContain('Judged bya model');
    expect(section.textContent).toContain('Attempts2 (1 retry)');
    expect(screen.getByRole('list', { name: 'Issues' }).textContent).toBe('No length check');
    expect(screen.getByRole('list', { name: 'Suggestions' }).textContent).toBe('Add a CHECK');
  });

  it('shows a passed verdict by a command without empty lists', () => {
    render(<ValidationSection validation={{ passed: true, issues: [], suggestions: [], by: 'command' }} attempts={1} />);
    const section = screen.getByRole('region', { name: 'Validation' });
    expect(section.querySelector('[data-passed]')?.textContent).toBe('✓ passed');
    expect(section.textContent).toContain('Judged bya command');
    expect(section.textContent).not.toContain('retr');
    expect(screen.queryByRole('list')).toBeNull();
  });
});
