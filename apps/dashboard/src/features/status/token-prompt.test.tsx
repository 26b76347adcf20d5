// The token prompt tells a compose user where the generated token is (the command the compose
// end-to-end test runs to find it), and hands the trimmed token over.
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { TOKEN_LOG_COMMAND, TokenPrompt } from './token-prompt';

afterEach(cleanup);

describe('TokenPrompt', () => {
  it('says where the generated token is logged', () => {
    render(<TokenPrompt onSubmit={() => {}} onCancel={() => {}} rejected={false} />);
    expect(screen.getByText(TOKEN_LOG_COMMAND)).toBeTruthy();
    expect(TOKEN_LOG_COMMAND).toBe(
      'docker compose -f deploy/docker-compose.yml logs load-balancer | grep "admin token"',
    );
  });

  it('says it after a rejected token too', () => {
    render(<TokenPrompt onSubmit={() => {}} onCancel={() => {}} rejected={true} />);
    expect(screen.getByText(/rejected the token/)).toBeTruthy();
    expect(screen.getByText(TOKEN_LOG_COMMAND)).toBeTruthy();
  });

  it('submits the trimmed token', () => {
    const onSubmit = vi.fn();
    render(<TokenPrompt onSubmit={onSubmit} onCancel={() => {}} rejected={false} />);
    fireEvent.change(screen.getByLabelText('token'), { target: { value: '  abc123 \n' } });
    fireEvent.click(screen.getByText('Use token'));
    expect(onSubmit).toHaveBeenCalledWith('abc123');
  });
});
