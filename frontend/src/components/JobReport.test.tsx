// Tests of the job report panel: fetched through the client with the key, shown as text,
// offered as a .md download, and an error shown when the server refuses.
import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { JobReport } from './JobReport';
import { renderWithServices } from '../test/services';
import { JOB } from '../test/fixtures';

const REPORT = '# Chirp\n\n**Request:** a Twitter-like app\n\n**Status:** succeeded\n\n## Totals\n- cost: 0.0421\n';

describe('JobReport', () => {
  it('fetches the Markdown report and shows it, with a download', async () => {
    const user = userEvent.setup();
    const onClose = vi.fn();
    const { fetchImpl } = renderWithServices(<JobReport jobId={JOB} onClose={onClose} />, (method, url) =>
      method === 'GET' && url === `/api/v1/recursion/job/${JOB}/report` ? { status: 200, text: REPORT } : { status: 404, body: {} },
    );
    const text = await screen.findByTestId('job-report-text');
    expect(text.textContent).toBe(REPORT);
    const init = fetchImpl.mock.calls[0][1] as RequestInit;
    expect((init.headers as Record<string, string>).Authorization).toMatch(/^Bearer /);
    const download = screen.getByRole('link', { name: 'Download .md' });
    expect(download.getAttribute('download')).toBe(`cadre-job-${JOB}.md`);
    expect(decodeURIComponent(download.getAttribute('href') ?? '')).toBe(`data:text/markdown;charset=utf-8,${REPORT}`);
    await user.click(screen.getByRole('button', { name: 'Close report' }));
    expect(onClose).toHaveBeenCalledOnce();
  });

  it('shows why the report could not be read', async () => {
    renderWithServices(<JobReport jobId={JOB} onClose={() => undefined} />, () => ({
      status: 404,
      body: { type: 'urn:cadre:problem:not-found', title: 'Not Found', status: 404, detail: `job ${JOB}` },
    }));
    expect(await screen.findByText(`Not Found (404): job ${JOB}`)).toBeTruthy();
    expect(screen.queryByRole('link')).toBeNull();
  });
});
